/**
 * The demo job: upper-cases what it is sent. Its default export is all a job module
 * needs, so the `nsz` command can serve it:
 *
 *   nsz serve --port 6660,6661 --min-servers 5 examples/uppercase.js
 *
 * (`npm run demo` runs exactly that.) A request of several frames gets a reply of as
 * many frames, each upper-cased.
 */

/** @type {import('@net-server/zmq').JobFunction} */
export default function uppercase (payload) {
  const frames = Buffer.isBuffer(payload) ? [payload] : payload
  return frames.map((frame) => frame.toString().toUpperCase())
}
