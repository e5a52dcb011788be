import { redact } from '@middy-downstream/core'
import { type Advice, advise } from './advice.js'
import { parseEndpoint } from './endpoint.js'
import type { FleetShape, ServerFacts } from './facts.js'
import { probeMysql } from './mysql-probe.js'
import { probePostgres } from './postgres-probe.js'

export interface DiagnoseOptions extends Partial<FleetShape> {
  /**
   * How long connecting may take, ms.
   * @default 10000
   */
  connectTimeoutMs?: number
  /**
   * Called with a line before each step (the CLI writes them to stderr).
   * @default none
   */
  progress?: (line: string) => void
}

export interface Diagnosis {
  facts: ServerFacts
  advice: Advice
  shape: FleetShape
}

/**
 * Reads a server's limits and state and concludes what a Lambda fleet can do there. Errors never
 * contain the URL's password.
 *
 * @example
 * const { facts, advice } = await diagnose('mysql://app:secret@db.internal/orders', { timeoutSeconds: 30 })
 */
export const diagnose = async (url: string, options: DiagnoseOptions = {}): Promise<Diagnosis> => {
  const { connectTimeoutMs = 10_000, progress = () => {} } = options
  const shape: FleetShape = {
    connectionsPerEnvironment: options.connectionsPerEnvironment ?? 1,
    ...(options.timeoutSeconds === undefined ? {} : { timeoutSeconds: options.timeoutSeconds }),
  }
  try {
    const endpoint = parseEndpoint(url)
    const probe = endpoint.engine === 'mysql' ? probeMysql : probePostgres
    const facts = await probe(endpoint, connectTimeoutMs, progress)
    return { facts, advice: advise(facts, shape), shape }
  } catch (error) {
    // A new error, not the driver's: its fields (config, stack) may hold the password.
    const message = error instanceof Error ? error.message : String(error)
    const code = (error as { code?: unknown })?.code
    throw new Error(redact(`${message}${code ? ` (${code})` : ''}`))
  }
}
