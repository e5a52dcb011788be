export { DownstreamError } from '@middy-downstream/core'
export { ThrottledError } from './errors.js'
export {
  type DownstreamGuardMiddleware,
  downstreamGuard,
  downstreamGuard as default,
  type GuardContext,
} from './guard.js'
export { type BatchThrottle, defaults, type GuardOptions, packageName } from './options.js'
export type { PermitInfo } from './permit-scope.js'
export {
  type AcquireAnswer,
  type AcquireRequest,
  type GuardLimit,
  PermitKeys,
  type PermitLimits,
} from './permits.js'
export { type BatchResponse, type HttpResponse, throttledResponse } from './throttled-response.js'
