/**
 * Per-request steps whose default body does nothing (or admits every request). The
 * server skips a step that is still the marked one, so that a request costs no call and
 * no `await` for steps that no class overrode; an override is a new function, not
 * marked, and runs.
 */
const INERT = Symbol('inert step')

/**
 * Marks methods whose body does nothing, or returns true for `allowDeny`-like steps: a
 * personality marks the empty steps it defines, so that they cost a request nothing.
 */
export function markInert (...steps: readonly object[]): void {
  for (const step of steps) Object.defineProperty(step, INERT, { value: true })
}

/** True while `step` is a method marked with {@link markInert}. */
export function isInert (step: object): boolean {
  return (step as { [INERT]?: boolean })[INERT] === true
}
