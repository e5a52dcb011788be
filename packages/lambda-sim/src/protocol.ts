/** Messages between an environment (child process) and its host. */
export interface InvokeMessage {
  type: 'invoke'
  id: number
  event: unknown
  timeoutMs: number
  functionName: string
  awsRequestId: string
}

export interface CallMessage {
  type: 'call'
  id: number
  /** An exported function of the handler module, e.g. one that reports module-scope state. */
  exportName: string
  args: unknown[]
}

export type HostMessage = InvokeMessage | CallMessage

export interface SerializedError {
  name: string
  message: string
  code?: string | number
  errno?: number
  /** The cause's code, when the error wraps another (`error.cause.code`). */
  causeCode?: string | number
}

export interface ReplyMessage {
  type: 'reply'
  id: number
  ok: boolean
  value?: unknown
  error?: SerializedError
  /** The handler (or the empty-event-loop wait) outlived the timeout. */
  timedOut?: boolean
  durationMs: number
}

export interface ReadyMessage {
  type: 'ready'
  initMs: number
}

/** The handler module could not be loaded (or its handler is refused): sent before exiting. */
export interface InitErrorMessage {
  type: 'init-error'
  error: SerializedError
}

export type EnvironmentMessage = ReplyMessage | ReadyMessage | InitErrorMessage

export const serializeError = (error: unknown): SerializedError => {
  const e = error as {
    name?: string
    message?: string
    code?: string | number
    errno?: number
    cause?: { code?: string | number }
  }
  return {
    name: e?.name ?? 'Error',
    message: e?.message ?? String(error),
    ...(e?.code === undefined ? {} : { code: e.code }),
    ...(e?.errno === undefined ? {} : { errno: e.errno }),
    ...(e?.cause?.code === undefined ? {} : { causeCode: e.cause.code }),
  }
}
