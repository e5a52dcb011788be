import type { MiddlewareObj, Request } from '@middy/core'
import { createManagedMiddleware, type SecretSource } from '@middy-downstream/core'
import type { SqlEngine } from './engine.js'
import { createSqlConnection, normalize } from './managed.js'
import type { SqlConnectionOptions } from './options.js'
import type { SqlSession } from './session.js'

/** A secret source that reads `request.internal[key]` (put there by e.g. @middy/rds-signer). */
const internalSecretOf =
  (packageName: string, request: Request, key: string): SecretSource =>
  async () => {
    const value = await (request.internal as Record<string, unknown>)[key]
    if (typeof value !== 'string' || value === '') {
      throw new TypeError(
        `${packageName}: request.internal.${key} holds no password; check the middleware that should put it there (e.g. @middy/rds-signer with setToContext: false) runs before this one`,
      )
    }
    return value
  }

/**
 * The Middy middleware of an engine: the managed connection's session on `context[contextKey]`,
 * scoped to the invocation by core.
 */
export const sqlMiddleware = <TConn, TConfig, THeader, TCreate>(
  engine: SqlEngine<TConn, TConfig, THeader, TCreate, unknown>,
  options: SqlConnectionOptions<TConfig, TCreate, string>,
): MiddlewareObj => {
  const managed = createSqlConnection(engine, options)
  // Middleware-level settings are this middleware's own; the connections may be shared.
  const settings = normalize(engine as SqlEngine<unknown, TConfig, unknown, TCreate, unknown>, options)
  const readInternal = settings.passwordFromInternal
  return createManagedMiddleware<SqlSession<TConn, THeader>>({
    name: 'db-connection',
    contextKey: settings.contextKey,
    events: managed.events,
    marginMs: settings.marginMs,
    eager: settings.eager,
    begin: (request, deadline, ids) => {
      const secret = readInternal ? internalSecretOf(engine.packageName, request, readInternal) : undefined
      const { session, scope, release } = managed.begin(request.context, secret, deadline, ids)
      return { handle: session, acquire: () => scope.client(), release }
    },
  })
}
