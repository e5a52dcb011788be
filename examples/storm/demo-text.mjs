// What `pnpm demo` says around its tables: the set-up, the columns, and the comparisons.

/** A run's name in tables and charts: db-connection on MySQL names its attribution mode. */
export const label = ({ handler, performanceSchema }) =>
  handler === 'db-connection' ? `${handler} (ps ${performanceSchema ? 'on' : 'off'})` : handler

const handlerLines = {
  mysql: [
    '  MariaDB, max_connections 20:',
    '    unmanaged               a mysql2 connection per environment at module scope, never closed',
    '    serverless-mysql        serverless-mysql as its README says: query, then end()',
    '    db-connection           Middy + @middy-downstream/db-connection, defaults plus functionTimeout: 3;',
    "                            once with performance_schema off (MariaDB's default: no reaping), once on (reaping by owner)",
  ],
  postgres: [
    '  PostgreSQL, 20 connections for applications (max_connections 23, 3 reserved for superusers):',
    '    unmanaged-pg            a pg.Client per environment at module scope, never closed',
    '    serverless-postgres     serverless-postgres as its README says: connect(), query, then clean()',
    '    db-connection-pg        Middy + @middy-downstream/db-connection/postgres, defaults plus functionTimeout: 3',
  ],
  'data-api': [
    '  Aurora Data API: the local endpoint (@middy-downstream/testing) over MariaDB, its pool of 10 playing the service:',
    '    db-connection-data-api  Middy + @middy-downstream/db-connection/data-api, the real SDK client',
  ],
}

export const introduction = ({ engines, maxConnections, concurrency, invocations, pauseMs, reap }) =>
  [
    `A connection storm against private databases (${maxConnections} connections for the application), for each handler:`,
    ...engines.flatMap((engine) => handlerLines[engine]),
    `Each run: ${invocations} invocations at concurrency ${concurrency} (up to ${concurrency} environments, frozen between invocations),`,
    `a ${pauseMs / 1000} s pause in which ${reap * 100}% of the idle environments are reclaimed (frozen for good, connections left open),`,
    `then ${invocations} more. One SELECT per invocation; function timeout 3 s.`,
    ...(engines.some((e) => e !== 'data-api')
      ? [
          'Bystanders on the same user and database (MariaDB and PostgreSQL): another application’s 3 pooled connections',
          '(a query every 4 s each), and another function (timeout 60 s, 2 environments) whose invocations hold a',
          'transaction open across a 4 s pause.',
        ]
      : []),
    '',
  ].join('\n')

export const explainTable = (engines) =>
  [
    'p50, p99      from issuing an invocation to its result, cold starts included (all handlers start the',
    '              same environments); p99 warm: the invocations that found a warm environment',
    'peak conns    database connections open, the sampler’s own left out (a refused connection counts while',
    '              it is being turned away): MariaDB’s Threads_connected, PostgreSQL’s client backends;',
    '              bystanders’ included. Data API: connections other than the service’s (the fleet’s)',
    ...(engines.includes('data-api')
      ? ['service conns the Data API service’s own pool (the local endpoint’s), not held by the fleet']
      : []),
    'queries/inv   statements per invocation, the sampler’s and bystanders’ left out: MariaDB’s Questions',
    '              (COM_QUIT included), PostgreSQL’s pg_stat_statements calls of the application’s role',
    '              (BEGIN, DISCARD ALL… included; failed statements not); Data API: HTTP calls to the endpoint',
    'connects/inv  connection attempts, refused ones included (MariaDB’s Connections; PostgreSQL’s',
    '              log_connections lines; Data API: database connects other than the service’s)',
    'perf_schema   MariaDB attributes connections to their owners (performance_schema on)',
    'bystander conns killed  connections of the application outside Lambda that the server closed under it',
    'bystander txns broken   transactions of the other function that began and never committed, of all it began',
  ].join('\n')

/** db-connection against the library it replaces, on each engine that ran both. */
export const summaryLines = (tables) => {
  const lines = []
  const rivals = { mysql: 'serverless-mysql', postgres: 'serverless-postgres' }
  for (const { engine, summaries } of tables) {
    const rival = summaries.find((s) => s.handler === rivals[engine])
    for (const managed of summaries.filter((s) => s.handler.startsWith('db-connection'))) {
      const name = label(managed)
      if (!rival) {
        lines.push(
          `${name}: ${managed.failures} failed, peak ${managed.peakConnections} connections held by the fleet, p99 warm ${Math.round(managed.warmP99)} ms, ${managed.queriesPerInvocation.toFixed(2)} round trips/inv.`,
        )
        continue
      }
      lines.push(
        `${name}: ${managed.failures} failed (${rival.handler}: ${rival.failures}), ` +
          `p99 warm ${Math.round(managed.warmP99)} ms (${Math.round(rival.warmP99)}), ` +
          `${managed.queriesPerInvocation.toFixed(2)} statements/inv ` +
          `(${(managed.queriesPerInvocation / rival.queriesPerInvocation).toFixed(2)}x ${rival.handler}'s ${rival.queriesPerInvocation.toFixed(2)}), ` +
          `bystanders ${managed.bystanders?.connectionsKilled ?? '-'} killed / ${managed.bystanders?.transactionsBroken ?? '-'} broken ` +
          `(${rival.handler}: ${rival.bystanders?.connectionsKilled ?? '-'} / ${rival.bystanders?.transactionsBroken ?? '-'}).`,
      )
    }
  }
  return lines
}
