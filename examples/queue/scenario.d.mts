export interface ScenarioOptions {
  name: string
  messages?: number
  environments?: number
  downstreamLimit?: number
  guardRedisUrl?: string
  guardMode?: 'batch' | 'record'
  maximumConcurrency?: number
  timeoutMs?: number
  batchWorkMs?: number
  visibilityTimeoutMs?: number
  maxReceiveCount?: number
  onProgress?: (line: string) => void
}

export interface ScenarioRow {
  scenario: string
  invocations: number
  failedInvocations: number
  overloads: number
  redelivered: number
  deadLettered: number
  processedOnce: number
  processedTwiceOrMore: number
  servedTwiceOrMore: number
  throttledRecords: number
  firstThrottleAtMs: number | undefined
  maxWaitMs: number
  peakInFlight: number
  drainSeconds: number
}

export function runScenario(options: ScenarioOptions): Promise<ScenarioRow>
export function formatRows(rows: ScenarioRow[]): string
