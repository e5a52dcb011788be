import type { Advice } from './advice.js'
import type { FleetShape, ServerFacts } from './facts.js'

const limit = (value: number | null) => (value === null ? 'none' : String(value))

const table = (rows: ServerFacts['connections']): string[] => {
  const width = Math.max(4, ...rows.map((row) => row.user.length))
  return rows.map((row) => `    ${row.user.padEnd(width)}  ${row.state.padEnd(20)} ${row.count}`)
}

/**
 * The report for people: what the server is, what the fleet can have, what to change.
 *
 * @example
 * console.log(formatReport(facts, advice, { timeoutSeconds: 30, connectionsPerEnvironment: 1 }))
 */
export const formatReport = (facts: ServerFacts, advice: Advice, shape: FleetShape): string => {
  const idle = Object.entries(facts.idle).map(
    ([name, seconds]) => `${name} ${seconds === 0 ? 'off' : `${seconds} s`}`,
  )
  const lines = [
    `${facts.endpoint}  (${facts.engine} ${facts.version})`,
    `  user                 ${facts.user}${facts.userIsAdmin ? '  (administrator: SUPER / superuser)' : ''}`,
    `  max_connections      ${facts.maxConnections}`,
    `  reserved             ${facts.reserved.count} (${facts.reserved.source})`,
    `  user limit           ${limit(facts.userLimit)}`,
    ...(facts.engine === 'postgres' ? [`  database limit       ${limit(facts.databaseLimit)}`] : []),
    `  idle timeouts        ${idle.join(', ')}`,
    `  fleet marker         ${facts.fleetMarker.readable ? 'readable' : 'not readable'} (${facts.fleetMarker.via})${facts.fleetMarker.why ? `: ${facts.fleetMarker.why}` : ''}`,
    `  TLS                  ${facts.tls.inUse ? `yes (${[facts.tls.version, facts.tls.cipher].filter(Boolean).join(', ')})` : 'no'}`,
    `  connections now${facts.allUsersVisible ? '' : ' (only this user’s are visible)'}:`,
    ...table(facts.connections),
    '',
    `For a function with ${shape.connectionsPerEnvironment} connection(s) per environment${shape.timeoutSeconds === undefined ? '' : ` and a ${shape.timeoutSeconds} s timeout`}:`,
    `  connection budget          ${advice.budget} (headroom ${advice.headroom} kept for deployments and administrators)`,
    `  largest safe reserved concurrency   ${advice.safeReservedConcurrency}`,
    ...(advice.recommendedWaitTimeout === undefined
      ? []
      : [
          `  recommended ${facts.engine === 'postgres' ? 'idle_session_timeout' : 'wait_timeout'} for the Lambda user   ${advice.recommendedWaitTimeout} s`,
        ]),
    `  db-connection reaping mode   ${advice.reapingMode === 'fleet-marker' ? 'fleet marker (only this fleet’s connections)' : 'fallback: same user and database'}`,
    '',
    advice.changes.length ? 'What to change:' : 'Nothing to change.',
    ...advice.changes.map((change, i) => `  ${i + 1}. ${change}`),
  ]
  return lines.join('\n')
}
