import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { onTestFinished } from 'vitest'

/** A fresh temporary directory, removed with its contents when the test finishes. */
export function tempDir (prefix = 'nsz-test-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix))
  onTestFinished(() => { rmSync(dir, { recursive: true, force: true }) })
  return dir
}
