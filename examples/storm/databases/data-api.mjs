// The storm's Aurora Data API: the local endpoint of the testing package (DataApiStandIn) over a
// private MariaDB. The endpoint's own pool, logged in as its own user, plays the Data API service:
// its connections are the service's, not the fleet's, and are counted apart. What the fleet holds
// is what the storm counts: database connections of anyone else (0 if the fleet holds none), and
// its round trips are HTTP calls to the endpoint.
import { DataApiStandIn } from '@middy-downstream/testing'
import { appUser, startDatabase } from './mariadb.mjs'

/** The user the secret names: the service logs in as it. */
const serviceUser = { user: 'dataapi', password: 'dataapi-pw' }

export const resourceArn = 'arn:aws:rds:us-east-1:123456789012:cluster:storm'
export const secretArn = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:storm-AbCdEf'

// One snapshot of the process list: the service's connections (those in their handshake have
// no user yet; they are the service's pool opening one, as the fleet has neither the database's
// address nor its credentials) and everyone else's but the sampler's own.
const countersSql = `SELECT
  SUM(USER IN ('${serviceUser.user}', 'unauthenticated user')) AS service,
  SUM(USER NOT IN ('${serviceUser.user}', 'unauthenticated user')) AS fleet,
  (SELECT VARIABLE_VALUE FROM information_schema.GLOBAL_STATUS WHERE VARIABLE_NAME = 'CONNECTIONS') AS connects,
  (SELECT COALESCE(SUM(TOTAL_CONNECTIONS), 0) FROM information_schema.USER_STATISTICS WHERE USER = '${serviceUser.user}') AS serviceConnects
  FROM information_schema.PROCESSLIST WHERE ID <> CONNECTION_ID() AND COMMAND <> 'Daemon' AND USER <> 'system user'`

/**
 * The storm's view of a Data API endpoint (see `startStormDatabase`). `serviceConnections`: the
 * most database connections the service's pool opens.
 */
export const startDataApiStorm = async ({ maxConnections, serviceConnections = 10 }) => {
  // userstat: connections per user, to leave the service's out of the fleet's connects.
  const server = await startDatabase({ maxConnections, extraArgs: ['--userstat=1'] })
  let endpoint
  try {
    const { user, password } = serviceUser
    await server.sql(`CREATE USER IF NOT EXISTS '${user}'@'%' IDENTIFIED BY '${password}'`)
    await server.sql(`GRANT ALL ON ${appUser.database}.* TO '${user}'@'%'`)
    endpoint = await DataApiStandIn.start({
      database: { host: server.host, port: server.port, user, password, database: appUser.database },
      connectionLimit: serviceConnections,
    })
    const read = async () => {
      const [row] = await server.sql(countersSql)
      return {
        fleet: Number(row.fleet ?? 0),
        service: Number(row.service ?? 0),
        fleetConnects: Number(row.connects) - Number(row.serviceConnects),
      }
    }
    const roundTrips = () => Object.values(endpoint.calls).reduce((sum, n) => sum + n, 0)
    return {
      engine: 'data-api',
      endpoint,
      env: {
        DB_ENGINE: 'data-api',
        DATA_API_ENDPOINT: endpoint.url,
        DATA_API_RESOURCE_ARN: resourceArn,
        DATA_API_SECRET_ARN: secretArn,
        DB_NAME: appUser.database,
      },
      samplers: {
        connections: async () => (await read()).fleet,
        service: async () => (await read()).service,
      },
      totals: async () => ({ statements: roundTrips(), connects: (await read()).fleetConnects }),
      sql: (statement) => server.sql(statement),
      dispose: async () => {
        await endpoint.dispose()
        await server.dispose()
      },
    }
  } catch (error) {
    await endpoint?.dispose()
    await server.dispose()
    throw error
  }
}
