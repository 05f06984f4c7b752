import { readFileSync } from 'node:fs'

/** One row of the table in docs/errors.md. */
export interface ErrorRow {
  readonly code: string
  readonly pkg: string
  readonly meaning: string
}

const ERRORS_DOC = new URL('../../../docs/errors.md', import.meta.url)

/** The rows `| code | package | meaning |` of docs/errors.md, in order. */
export function errorTable (): ErrorRow[] {
  const rows: ErrorRow[] = []
  for (const line of readFileSync(ERRORS_DOC, 'utf8').split('\n')) {
    const cells = /^\|(.*)\|$/.exec(line.trim())?.[1]?.split('|').map((c) => c.trim().replace(/^`|`$/g, ''))
    if (cells === undefined || cells.length !== 3 || !cells[0]!.startsWith('NSZ_ERR_')) continue
    rows.push({ code: cells[0]!, pkg: cells[1]!, meaning: cells[2]! })
  }
  return rows
}

/** The codes that docs/errors.md lists for the package `pkg` (`@net-server/core`), in order. */
export function documentedCodes (pkg: string): string[] {
  return errorTable().filter((r) => r.pkg === pkg).map((r) => r.code)
}
