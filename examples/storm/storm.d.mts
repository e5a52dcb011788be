// Types of storm.mjs, for the TypeScript test.
import type { FleetProgress, FleetResults, Phase } from '@middy-downstream/lambda-sim'
import type { MariaDbServer } from '@middy-downstream/testing'

export type Engine = 'mysql' | 'postgres' | 'data-api'
export type HandlerName =
  | 'unmanaged'
  | 'serverless-mysql'
  | 'db-connection'
  | 'unmanaged-pg'
  | 'serverless-postgres'
  | 'db-connection-pg'
  | 'db-connection-data-api'

export interface StormRecord {
  at: number
  ok: boolean
  coldStart: boolean
  latencyMs: number
  durationMs: number
}

export interface StormSummary {
  handler: string
  maxConnections: number
  invocations: number
  successes: number
  failures: number
  failuresByCode: Record<string, number>
  p50: number
  p99: number
  maxLatency: number
  warmP50: number
  warmP99: number
  peakConnections: number
  /** The Data API service's own pool at its largest; undefined for the other engines. */
  peakServiceConnections?: number
  queriesPerInvocation: number
  connectsPerInvocation: number
  coldStarts: number
  environmentsStarted: number
  environmentsAbandoned: number
  durationMs: number
  samples: { t: number; connections: number | null | undefined }[]
  failureTimes: number[]
  records: StormRecord[]
  phases: { name: string; startMs: number; endMs: number; invocations: number }[]
  results: FleetResults
  engine: Engine
  /** Whether MariaDB attributed connections (performance_schema on); undefined for the other engines. */
  performanceSchema?: boolean
  /** What the bystanders suffered; undefined when they did not run. */
  bystanders?: BystanderReport
}

export interface BystanderReport {
  /** Connections of the application outside Lambda that the server closed under it. */
  connectionsKilled: number
  /** Transactions of the other function that began and never committed. */
  transactionsBroken: number
  transactionsCommitted: number
  /** Statements the bystanders sent (left out of the storm's statements per invocation). */
  statements: number
}

export interface StormOptions {
  handler: HandlerName
  maxConnections?: number
  profile?: Phase[]
  maxEnvironments?: number
  timeoutMs?: number
  sampleEveryMs?: number
  env?: Record<string, string>
  performanceSchema?: boolean
  bystanders?: boolean | { application?: number; functions?: number; pauseMs?: number }
  onProgress?: (progress: FleetProgress & { handler: string }) => void
  onPhase?: (info: { handler: string; index: number; phase: Phase }) => void
  onDatabase?: (database: StormDatabase) => void
}

/** A storm's private database, as `startStormDatabase` gives it. */
export interface StormDatabase {
  engine: Engine
  env: Record<string, string>
  samplers: Record<string, () => Promise<number>>
  totals: () => Promise<{ statements: number; connects: number }>
  sql: (statement: string) => Promise<unknown>
  ledgerSql?: string
  dispose: () => Promise<void>
}

export declare const handlerNames: HandlerName[]
export declare const engines: Engine[]
export declare const handlersByEngine: Record<Engine, HandlerName[]>
export declare const engineOf: (handler: HandlerName) => Engine
export declare const handlerModule: (name: HandlerName) => string
export declare const appUser: { user: string; password: string; database: string }
export declare const stormProfile: (options?: {
  concurrency?: number
  invocations?: number
  pauseMs?: number
  reap?: number
}) => Phase[]
export declare const mariaDbMissing: () => string | undefined
export declare const readCounters: (
  server: MariaDbServer,
) => Promise<{ connections: number; questions: number; connects: number }>
export declare const startDatabase: (options?: {
  maxConnections?: number
  performanceSchema?: boolean
  extraArgs?: string[]
}) => Promise<MariaDbServer>
export declare const runStorm: (options: StormOptions) => Promise<StormSummary>
export declare const formatStormTable: (summaries: StormSummary[]) => string
