import { mkdirSync, utimesSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { newestFile, requireFreshBuild, staleBuild, tempDir, BUILT_PACKAGES } from '@net-server/test-support'

/** A package directory with `files` (path → modification time in seconds). */
function pkg (files: Record<string, number>): string {
  const dir = tempDir('nsz-build-')
  for (const [path, seconds] of Object.entries(files)) {
    const file = join(dir, path)
    mkdirSync(join(file, '..'), { recursive: true })
    writeFileSync(file, '')
    utimesSync(file, seconds, seconds)
  }
  return dir
}

describe('staleBuild', () => {
  it('passes a dist/ newer than every file under src/, nested ones too', () => {
    expect(staleBuild(pkg({ 'src/a.ts': 100, 'src/sub/b.ts': 200, 'dist/a.js': 300, 'dist/.tsbuildinfo': 300 }))).toBeUndefined()
  })

  it('refuses a dist/ older than one source file, naming it and saying to build', () => {
    const dir = pkg({ 'src/a.ts': 100, 'src/sub/b.ts': 400, 'dist/a.js': 300 })
    expect(staleBuild(dir)).toBe(`${dir}/dist is older than ${dir}/src/sub/b.ts: run \`pnpm build\``)
  })

  it('refuses a package with no dist/', () => {
    const dir = pkg({ 'src/a.ts': 100 })
    expect(staleBuild(dir)).toBe(`${dir}/dist is missing: run \`pnpm build\``)
  })

  it('counts the newest file of dist/, not its oldest', () => {
    expect(staleBuild(pkg({ 'src/a.ts': 200, 'dist/old.js': 100, 'dist/.tsbuildinfo': 250 }))).toBeUndefined()
  })
})

describe('newestFile', () => {
  it('finds the newest file at any depth, and nothing in a missing directory', () => {
    const dir = pkg({ 'x/a': 100, 'x/deep/er/b': 500, 'x/c': 300 })
    expect(newestFile(join(dir, 'x'))).toEqual({ path: join(dir, 'x/deep/er/b'), mtimeMs: 500_000 })
    expect(newestFile(join(dir, 'none'))).toBeUndefined()
  })
})

describe('requireFreshBuild', () => {
  it('passes on the workspace as built (the tests of nsz and the examples run these builds)', () => {
    expect(() => requireFreshBuild(BUILT_PACKAGES)).not.toThrow()
  })

  it('throws naming the package that has no build', () => {
    expect(() => requireFreshBuild(['no-such-package'])).toThrow('packages/no-such-package/dist is missing: run `pnpm build`')
  })
})
