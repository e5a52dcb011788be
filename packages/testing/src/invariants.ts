/**
 * The invariant suite, as its own entry (`@middy-downstream/testing/invariants`): it imports
 * `@jest/globals`, which only loads inside Jest, so the main entry (used by benches and child
 * processes) must not pull it in.
 */
export type { InvariantFixture } from './invariant-suite/fixture.js'
export { runInvariantSuite } from './invariant-suite/suite.js'
