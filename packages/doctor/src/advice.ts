import type { FleetShape, ServerFacts } from './facts.js'

/** What the doctor concludes for a Lambda fleet connecting as the probed user. */
export interface Advice {
  /** Connections the fleet can have now: the lowest of the server's room, the user's and the database's limit. */
  budget: number
  /** Kept free for deployments (two versions overlap), administrators and tools: 10 %, at least 1. */
  headroom: number
  /** The largest reserved concurrency that cannot exhaust the budget. */
  safeReservedConcurrency: number
  /** Seconds; only with a function timeout. */
  recommendedWaitTimeout?: number
  /** How db-connection's zombie reaping tells this fleet's connections apart here. */
  reapingMode: 'fleet-marker' | 'same-user-and-database'
  /** What to change, most important first. */
  changes: string[]
}

const othersNow = (facts: ServerFacts): number =>
  facts.connections.filter((row) => row.user !== facts.user).reduce((sum, row) => sum + row.count, 0)

/** The connection budget and where each bound comes from. */
const budgetOf = (facts: ServerFacts): number => {
  const server =
    facts.maxConnections - (facts.reserved.withinMax ? facts.reserved.count : 0) - othersNow(facts)
  const bounds = [server, facts.userLimit, facts.databaseLimit].filter((n): n is number => n !== null)
  return Math.max(0, Math.min(...bounds))
}

/**
 * Above the longest a live invocation leaves its connection idle (the timeout, plus the 2 s
 * db-connection's reaping floor adds), and short enough that a reclaimed environment's connection
 * is gone within minutes instead of 8 hours.
 */
const waitTimeoutFor = (timeoutSeconds: number): number => Math.max(300, Math.ceil(timeoutSeconds) + 60)

const idleChanges = (facts: ServerFacts, recommended: number, timeoutSeconds: number): string[] => {
  const changes: string[] = []
  if (facts.engine === 'postgres') {
    const idle = facts.idle.idle_session_timeout
    if (idle === undefined) {
      changes.push(
        `idle sessions never time out before PostgreSQL 14: rely on db-connection's reaping, or upgrade for idle_session_timeout`,
      )
    } else if (idle === 0 || idle > recommended) {
      changes.push(
        `ALTER ROLE "${facts.user}" SET idle_session_timeout = '${recommended}s' (zombie connections of reclaimed environments end by themselves)`,
      )
    }
    const inTransaction = facts.idle.idle_in_transaction_session_timeout ?? 0
    if (inTransaction === 0 || inTransaction > timeoutSeconds + 2) {
      changes.push(
        `ALTER ROLE "${facts.user}" SET idle_in_transaction_session_timeout = '${Math.ceil(timeoutSeconds) + 2}s' (a timed-out invocation's open transaction stops holding locks)`,
      )
    }
    return changes
  }
  const wait = facts.idle.wait_timeout ?? 0
  if (wait > recommended) {
    changes.push(
      `lower wait_timeout from ${wait} s to ${recommended} s for the Lambda user: SET GLOBAL init_connect = 'SET SESSION wait_timeout = ${recommended}' (applies to users without SUPER), or SET GLOBAL wait_timeout = ${recommended} server-wide`,
    )
  }
  return changes
}

const limitChange = (facts: ServerFacts, budget: number): string | undefined => {
  if (facts.userLimit !== null) return undefined
  return facts.engine === 'postgres'
    ? `cap the Lambda role: ALTER ROLE "${facts.user}" CONNECTION LIMIT ${budget} (the fleet then hits its own limit, not the server's)`
    : `cap the Lambda user: ALTER USER ${facts.account ?? `'${facts.user}'`} WITH MAX_USER_CONNECTIONS ${budget} (the fleet then hits its own limit, not the server's)`
}

const markerChange = (facts: ServerFacts): string | undefined => {
  if (facts.fleetMarker.readable) return undefined
  const enable = facts.fleetMarker.why?.includes('OFF')
    ? 'enable performance_schema (performance_schema=ON in the server configuration or parameter group, then restart)'
    : 'let the user read performance_schema.session_connect_attrs (GRANT SELECT ON performance_schema.session_connect_attrs)'
  return `reaping can only pick connections by user and database here (${facts.fleetMarker.why}): give other applications their own user, or ${enable}`
}

/**
 * The doctor's conclusions from the facts and the function's shape.
 *
 * @example
 * const advice = advise(facts, { timeoutSeconds: 30, connectionsPerEnvironment: 1 })
 */
export const advise = (facts: ServerFacts, shape: FleetShape): Advice => {
  const budget = budgetOf(facts)
  const headroom = Math.max(1, Math.ceil(budget * 0.1))
  const safe = Math.max(0, Math.floor((budget - headroom) / shape.connectionsPerEnvironment))
  const changes: string[] = []
  if (safe === 0)
    changes.push(
      'the server has no room for this fleet now: raise max_connections, or put RDS Proxy in front',
    )
  if (facts.userIsAdmin) {
    changes.push(
      'connect as a user without SUPER / superuser: such a user may take the connections reserved for administrators, leaving no way in when the fleet fills the server',
    )
  }
  const limit = limitChange(facts, budget)
  if (limit) changes.push(limit)
  const recommended = shape.timeoutSeconds === undefined ? undefined : waitTimeoutFor(shape.timeoutSeconds)
  if (recommended !== undefined) changes.push(...idleChanges(facts, recommended, shape.timeoutSeconds!))
  const marker = markerChange(facts)
  if (marker) changes.push(marker)
  if (!facts.allUsersVisible) {
    changes.push(
      "other users' connections were not visible (GRANT PROCESS to see them): the budget counts only this user's",
    )
  }
  if (!facts.tls.inUse)
    changes.push(
      "the connection does not use TLS: add sslmode=require to check it, and ssl to db-connection's config",
    )
  if (recommended === undefined)
    changes.push('pass --timeout <seconds> (the function timeout) for the idle timeout to set')
  return {
    budget,
    headroom,
    safeReservedConcurrency: safe,
    ...(recommended === undefined ? {} : { recommendedWaitTimeout: recommended }),
    reapingMode: facts.fleetMarker.readable ? 'fleet-marker' : 'same-user-and-database',
    changes,
  }
}
