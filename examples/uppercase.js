// The job of the seed's synopsis: answer each request upper-cased.
//   nsz serve --port 6660,6661 --min-servers 5 examples/uppercase.js
export default function uppercase (payload) {
  return payload.toString().toUpperCase()
}
