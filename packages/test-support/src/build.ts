/**
 * Tests that run a package's build (`dist/`, as users do) check first that it is not
 * older than its source: a test of a stale build passes or fails for the wrong code.
 */
import { readdirSync, statSync } from 'node:fs'
import { join, relative } from 'node:path'
import { ROOT } from './process.js'

/** The newest file under a directory, by modification time; `undefined` when it has none or does not exist. */
export function newestFile (dir: string): { path: string, mtimeMs: number } | undefined {
  let newest: { path: string, mtimeMs: number } | undefined
  let entries
  try {
    entries = readdirSync(dir, { withFileTypes: true, recursive: true })
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw err
  }
  for (const entry of entries) {
    if (!entry.isFile()) continue
    const path = join(entry.parentPath, entry.name)
    const { mtimeMs } = statSync(path)
    if (newest === undefined || mtimeMs > newest.mtimeMs) newest = { path, mtimeMs }
  }
  return newest
}

/**
 * Why the build of the package in `dir` cannot be run (no `dist/`, or a file under
 * `src/` newer than everything under `dist/`), or `undefined` when it is up to date.
 */
export function staleBuild (dir: string): string | undefined {
  const name = shown(dir)
  const built = newestFile(join(dir, 'dist'))
  if (built === undefined) return `${name}/dist is missing: run \`pnpm build\``
  const source = newestFile(join(dir, 'src'))
  if (source !== undefined && source.mtimeMs > built.mtimeMs) {
    return `${name}/dist is older than ${shown(source.path)}: run \`pnpm build\``
  }
  return undefined
}

/** A path as the repository names it, or as it is when outside the repository. */
function shown (path: string): string {
  const inside = relative(ROOT, path)
  return inside === '' || inside.startsWith('..') ? path : inside
}

/** Throws unless each of `packages` (directories under `packages/`) has a build as new as its source. */
export function requireFreshBuild (packages: readonly string[]): void {
  const problems = packages.map((pkg) => staleBuild(join(ROOT, 'packages', pkg))).filter((p) => p !== undefined)
  if (problems.length > 0) throw new Error(`the tests run the built packages, and ${problems.join('; ')}`)
}

/** The packages `nsz` and the examples load from their builds. */
export const BUILT_PACKAGES: readonly string[] = ['core', 'prefork', 'client', 'zmq-personality']
