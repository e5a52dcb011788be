export type { ConnectFailure, ConnectionAdapter } from './adapter.js'
export { type BackoffOptions, type BackoffStrategy, createBackoff } from './backoff.js'
export { lifecycleChannelName } from './channels.js'
export { invocationIdsOf, lambdaContextOf, remainingTimeMs, reservedContextKeys, trySet } from './context.js'
export {
  ConnectCredentials,
  CredentialError,
  CredentialSource,
  resolveSecret,
  type SecretSource,
} from './credentials.js'
export { Deadline } from './deadline.js'
export { DeadlineGuard } from './deadline-guard.js'
export { DeadlineSet } from './deadline-set.js'
export { DeadlineWatch, type DeadlineWatcher } from './deadline-watch.js'
export {
  AuthenticationError,
  CapacityError,
  ClosedError,
  ConnectError,
  ConnectionLostError,
  DeadlineError,
  DownstreamError,
  type DownstreamErrorKind,
  type DownstreamErrorOptions,
  OperationError,
  ReleasedError,
  TransactionError,
} from './errors.js'
export {
  describeError,
  type EventListener,
  EventSink,
  emptyCounters,
  type LifecycleCounters,
  type LifecycleEvent,
  type LifecycleEventType,
} from './events.js'
export { LazyTimer } from './lazy-timer.js'
export {
  announceBudget,
  type ConnectionBudget,
  connectionBudget,
  type ManagedInstances,
  managedInstances,
} from './managed-instances.js'
export { createManagedMiddleware, type ManagedMiddlewareSpec, type ScopeHooks } from './middleware.js'
export { isNetworkErrorCode } from './network-errors.js'
export { firstInEnvironment } from './once-per-environment.js'
export { type OptionAlias, type OptionAliases, withAliases } from './option-aliases.js'
export {
  contextKeyRule,
  type OptionRule,
  type OptionsSchema,
  portRule,
  validateOptions,
} from './options.js'
export { ClientPool, type PoolOptions, Slot } from './pool.js'
export { fingerprint, registryDelete, registryGet } from './registry.js'
export {
  createLookup,
  forgetResolvedHost,
  maxCacheMs,
  type ResolvedAddress,
  resolveHost,
} from './resolve-host.js'
export { type RetryContext, RetryGaveUp, type RetryOptions, retryWithin } from './retry.js'
export {
  RetryBudget,
  type RetryBudgetOptions,
  type RetryDecision,
  type RetryStop,
} from './retry-budget.js'
export { type ReleaseDisposition, Scope, type ScopeInfo } from './scope.js'
export { redact, redactError, rememberedSecretCount, rememberSecret } from './secrets.js'
export { type SettleHooks, settleWithin, sleep, withHooks, withTimeout, yieldToEventLoop } from './sleep.js'
export { warnOnce } from './warn.js'
