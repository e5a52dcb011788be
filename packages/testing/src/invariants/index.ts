export type { InvariantFixture } from './fixture.js'
export { runInvariantSuite } from './suite.js'
