import { fileURLToPath } from 'node:url'

/** The path of a fixture of this package's tests (`test/fixtures/<name>`). */
export const fixture = (name: string): string => fileURLToPath(new URL(`../fixtures/${name}`, import.meta.url))
