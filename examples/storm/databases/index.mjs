// Which database each storm handler runs against, and one way to start any of them.
import { startDataApiStorm } from './data-api.mjs'
import { startMariaDbStorm } from './mariadb.mjs'
import { startPostgresStorm } from './postgres.mjs'

/** The handlers of each engine, in the order they are shown. */
export const handlersByEngine = {
  mysql: ['unmanaged', 'serverless-mysql', 'db-connection'],
  postgres: ['unmanaged-pg', 'serverless-postgres', 'db-connection-pg'],
  'data-api': ['db-connection-data-api'],
}

export const engines = Object.keys(handlersByEngine)

/** The engine a handler runs against. */
export const engineOf = (handler) => {
  const engine = engines.find((name) => handlersByEngine[name].includes(handler))
  if (!engine)
    throw new TypeError(`unknown handler ${handler}; one of ${Object.values(handlersByEngine).flat()}`)
  return engine
}

/**
 * Starts the private database of a handler's engine. The result: `engine`, the handlers' `env`,
 * `samplers` (`connections`: database connections the fleet and bystanders hold now, the
 * sampler's own and a Data API service's left out), `totals()` (statements or round trips, and
 * connection attempts, so far), `sql()` for set-up, `ledgerSql` for the bystanders (absent where
 * they do not run) and `dispose()`.
 */
export const startStormDatabase = (handler, options) => {
  const engine = engineOf(handler)
  if (engine === 'postgres') return startPostgresStorm(options)
  if (engine === 'data-api') return startDataApiStorm(options)
  return startMariaDbStorm(options)
}
