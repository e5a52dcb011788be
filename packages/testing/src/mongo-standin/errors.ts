import { type Document, Double } from 'bson'

/** A command failure that is answered with the real server's `{ ok: 0, code, codeName, errmsg }` shape. */
export class CommandError extends Error {
  constructor(
    readonly code: number,
    readonly codeName: string,
    message: string,
  ) {
    super(message)
  }
}

export const badValue = (message: string): CommandError => new CommandError(2, 'BadValue', message)

export const authFailed = (): CommandError =>
  new CommandError(18, 'AuthenticationFailed', 'Authentication failed.')

export const ok = (fields: Document = {}): Document => ({ ...fields, ok: new Double(1) })

export function errorReply(err: unknown): Document {
  if (err instanceof CommandError) {
    return { ok: new Double(0), errmsg: err.message, code: err.code, codeName: err.codeName }
  }
  const errmsg = err instanceof Error ? err.message : String(err)
  return {
    ok: new Double(0),
    errmsg: `stand-in internal error: ${errmsg}`,
    code: 1,
    codeName: 'InternalError',
  }
}
