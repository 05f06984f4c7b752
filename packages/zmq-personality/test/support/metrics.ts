/**
 * Scrapes a Prometheus endpoint as Prometheus does, over HTTP, and reads its text
 * format into series: `name{label="value",…}` as printed, to its value.
 */
import { within } from '@net-server/test-support'

/** The samples of one scrape, by series as the endpoint printed it. */
export type Samples = ReadonlyMap<string, number>

/** `GET url`: the status, the content type, and the samples of the body (comments left out). */
export async function scrape (url: string): Promise<{ status: number, type: string, samples: Samples, text: string }> {
  const res = await within(fetch(url), 5000, `an answer from ${url}`)
  const text = await res.text()
  return { status: res.status, type: res.headers.get('content-type') ?? '', samples: parseSamples(text), text }
}

/** The samples of a Prometheus text body, comments left out. */
export function parseSamples (text: string): Samples {
  const samples = new Map<string, number>()
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue
    const at = line.lastIndexOf(' ')
    samples.set(line.slice(0, at), Number(line.slice(at + 1)))
  }
  return samples
}

/** The value of `series`; fails when the scrape has no such series. */
export function sample (samples: Samples, series: string): number {
  const value = samples.get(series)
  if (value === undefined) throw new Error(`no series ${series} in the scrape: ${[...samples.keys()].filter((k) => k.startsWith(series.split('{')[0]!)).join(', ')}`)
  return value
}
