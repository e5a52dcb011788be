import { createHash, createHmac, pbkdf2Sync, randomBytes, timingSafeEqual } from 'node:crypto'
import { authFailed, CommandError } from './errors.js'

/** What a real server stores per user for SCRAM-SHA-256 (RFC 5802 / RFC 7677). */
export interface ScramCredential {
  salt: Buffer
  iterations: number
  storedKey: Buffer
  serverKey: Buffer
}

/** One authentication conversation (per connection). */
export interface ScramState {
  user: string
  credential: ScramCredential
  nonce: string
  clientFirstBare: string
  serverFirst: string
}

const hmac = (key: Buffer, text: string): Buffer => createHmac('sha256', key).update(text).digest()
const sha256 = (data: Buffer): Buffer => createHash('sha256').update(data).digest()

/**
 * The driver runs SASLprep on SCRAM-SHA-256 passwords; NFKC normalisation is the part that matters for
 * ordinary passwords (the prohibited-character checks are not repeated here).
 */
export function makeCredential(password: string): ScramCredential {
  const salt = randomBytes(16)
  const iterations = 4096 // the driver rejects fewer
  const salted = pbkdf2Sync(password.normalize('NFKC'), salt, iterations, 32, 'sha256')
  return {
    salt,
    iterations,
    storedKey: sha256(hmac(salted, 'Client Key')),
    serverKey: hmac(salted, 'Server Key'),
  }
}

function attributes(message: string): Record<string, string> {
  const out: Record<string, string> = {}
  for (const part of message.split(',')) {
    const eq = part.indexOf('=')
    if (eq > 0) out[part.slice(0, eq)] = part.slice(eq + 1)
  }
  return out
}

/** Handles the client-first message; returns the state and the server-first message. */
export function scramStart(clientFirst: string, credentials: Map<string, ScramCredential>): ScramState {
  const match = /^[ny],[^,]*,(.*)$/.exec(clientFirst)
  if (!match) throw new CommandError(17, 'ProtocolError', 'Invalid SCRAM client-first message')
  const clientFirstBare = match[1]
  const attrs = attributes(clientFirstBare)
  const user = (attrs.n ?? '').replace(/=2C/g, ',').replace(/=3D/g, '=')
  const credential = credentials.get(user)
  if (!credential || !attrs.r) throw authFailed()
  const nonce = attrs.r + randomBytes(18).toString('base64')
  const serverFirst = `r=${nonce},s=${credential.salt.toString('base64')},i=${credential.iterations}`
  return { user, credential, nonce, clientFirstBare, serverFirst }
}

/** Verifies the client proof; returns the server-final message (`v=` server signature). */
export function scramFinish(state: ScramState, clientFinal: string): string {
  const proofAt = clientFinal.lastIndexOf(',p=')
  if (proofAt < 0) throw authFailed()
  const withoutProof = clientFinal.slice(0, proofAt)
  if (attributes(withoutProof).r !== state.nonce) throw authFailed()
  const proof = Buffer.from(clientFinal.slice(proofAt + 3), 'base64')
  const authMessage = `${state.clientFirstBare},${state.serverFirst},${withoutProof}`
  const signature = hmac(state.credential.storedKey, authMessage)
  if (proof.length !== signature.length) throw authFailed()
  const clientKey = Buffer.from(proof.map((b, i) => b ^ signature[i]))
  if (!timingSafeEqual(sha256(clientKey), state.credential.storedKey)) throw authFailed()
  return `v=${hmac(state.credential.serverKey, authMessage).toString('base64')}`
}
