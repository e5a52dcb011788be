// Types of resume.mjs, for the TypeScript test.
export interface ResumeGroup {
  name: string
  timeoutMs: number
  invocations: number
  succeeded: number
  failed: number
  /** Failures that Lambda's timeout ended (the middleware should have failed first). */
  timedOut: number
  slowestSuccessMs: number
  slowestFailureMs: number
  codes: string[]
  message?: string
}

export interface ResumeResult {
  pauseMs: number
  /** The long-timeout function first, then the short-timeout one. */
  groups: [ResumeGroup, ResumeGroup]
  calls: Record<string, number>
}

export declare const runResume: (options?: {
  pauseMs?: number
  shortTimeoutMs?: number
  longTimeoutMs?: number
  concurrency?: number
  invocations?: number
}) => Promise<ResumeResult>
export declare const formatResume: (result: ResumeResult) => string
