/** Every error class a user of any engine may `instanceof`: one list, re-exported by each entry. */
export {
  AuthenticationError,
  CapacityError,
  ClosedError,
  ConnectError,
  ConnectionLostError,
  DeadlineError,
  DownstreamError,
  type LifecycleCounters,
  type LifecycleEvent,
  OperationError,
  ReleasedError,
  TransactionError,
} from '@middy-downstream/core'
