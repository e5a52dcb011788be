export { activeResources, addedSince, type ResourceCounts } from './active-resources.js'
export {
  defaults,
  type EventLoopReleaseOptions,
  eventLoopRelease,
  eventLoopRelease as default,
  type LeftoverReport,
  packageName,
  releaseEventLoop,
} from './event-loop-release.js'
export { runtimeNodeMajor, runtimeTakesCallbacks } from './runtime.js'
