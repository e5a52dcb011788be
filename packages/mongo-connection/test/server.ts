// Chooses the server the tests run against: a MongoStandIn (wire-protocol stand-in, default), or
// the real MongoDB at MONGO_URL. Tests that need to restart or black-hole the server only run
// against the stand-in; they are selected with `describe` (never skipped) via `destructive`.
import { createRequire } from 'node:module'
import { MongoStandIn } from '@middy-downstream/testing'
import { MongoClient as MongoClient7 } from 'mongodb'
import type { MongoClientConstructor } from '../src/index.js'

/** The real server's connection string, when the suite runs against one. */
export const externalUrl = process.env.MONGO_URL

/** Whether restart/black-hole cases can run: only against the stand-in. */
export const destructive = externalUrl === undefined

/** Whether valid credentials are known: the stand-in's, or those in MONGO_URL. */
export const credentialsKnown = externalUrl === undefined || /^[a-z+]+:\/\/[^:@/]+:[^@/]*@/i.test(externalUrl)

const require = createRequire(import.meta.url)
const MongoClient6 = (require('mongodb6') as { MongoClient: MongoClientConstructor }).MongoClient

/** Both supported driver majors; every client-facing suite runs with each. */
export const drivers: [string, MongoClientConstructor][] = [
  ['driver 7', MongoClient7],
  ['driver 6', MongoClient6],
]

/** The stand-in's only user: every connection authenticates with SCRAM-SHA-256. */
const standInUser = { username: 'app', password: 'correct horse battery staple' }

export interface TestServer {
  kind: 'stand-in' | 'external'
  /** The credentials the server accepts, when it requires any. */
  credentials?: { username: string; password: string }
  /** A connection string: with the valid credentials, other ones, or none (`null`). */
  url(credentials?: { username: string; password: string } | null): string
  /** Server-side count of TCP connections ever accepted (the stand-in keeps one; a real server is shared). */
  connectionsAccepted?: () => number
  standIn?: MongoStandIn
  stop(): Promise<void>
}

const withCredentials = (url: string, credentials: { username: string; password: string } | null): string => {
  const [, scheme = '', rest = ''] = /^([a-z][a-z0-9+.-]*:\/\/)(?:[^@/]*@)?(.*)$/i.exec(url) ?? []
  if (!credentials) return `${scheme}${rest}`
  return `${scheme}${encodeURIComponent(credentials.username)}:${encodeURIComponent(credentials.password)}@${rest}`
}

const credentialsIn = (url: string): { username: string; password: string } | undefined => {
  const match = /^[a-z+]+:\/\/([^:@/]+):([^@/]*)@/i.exec(url)
  return match
    ? { username: decodeURIComponent(match[1]!), password: decodeURIComponent(match[2]!) }
    : undefined
}

/**
 * Starts the stand-in (with one user) or wraps MONGO_URL.
 *
 * @example
 * const server = await startServer()
 * const url = server.url() // valid credentials
 */
export const startServer = async (): Promise<TestServer> => {
  if (externalUrl) {
    const credentials = credentialsIn(externalUrl)
    return {
      kind: 'external',
      ...(credentials ? { credentials } : {}),
      url: (given) => (given === undefined ? externalUrl : withCredentials(externalUrl, given)),
      stop: async () => {},
    }
  }
  const standIn = await MongoStandIn.start({ users: { [standInUser.username]: standInUser.password } })
  const base = standIn.url()
  return {
    kind: 'stand-in',
    credentials: standInUser,
    url: (given) => withCredentials(base, given === undefined ? standInUser : given),
    connectionsAccepted: () => standIn.connectionsAccepted,
    standIn,
    stop: () => standIn.stop(),
  }
}

let counter = 0
/** A database name of its own for each test, so tests never share a registry entry or data. */
export const uniqueDb = (): string => `mc_${process.pid}_${++counter}`
