export { exited, exitOnSignals, forgetDirectory, trackChild, trackDirectory } from './cleanup.js'
export {
  type DownstreamCounters,
  DownstreamStandIn,
  type DownstreamStandInOptions,
} from './downstream-standin.js'
export { type EnvironmentOptions, type InvocationResult, LambdaEnvironment } from './environment.js'
export { type FaultMode, FaultProxy, type ProxiedConnection } from './fault-proxy.js'
export { Fleet, runFleet } from './fleet.js'
export type { FleetOptions, FleetProgress, FleetState, PhaseHookInfo } from './fleet-options.js'
export { formatResults } from './format-results.js'
export { callbackHandlersSupported } from './handler-host.js'
export { type FakeContextOptions, fakeContext } from './lambda-context.js'
export { type LatencySummary, percentile, summarizeLatency } from './percentiles.js'
export { freePort, waitForPort } from './ports.js'
export {
  describePhase,
  type EventInfo,
  type EventSource,
  type Phase,
  type Profile,
  parseProfile,
} from './profile.js'
export type { SerializedError } from './protocol.js'
export { drainQueue, type QueueSourceOptions, type QueueSourceResult, sqsEvent } from './queue-source.js'
export {
  errorCode,
  type FleetResults,
  type InvocationRecord,
  type PhaseResult,
  type RunTotals,
  type Sample,
} from './results.js'
export type { Sampler } from './sampler.js'
export { type QueueCounters, type QueuedMessage, SqsQueue, type SqsQueueOptions } from './sqs-queue.js'
