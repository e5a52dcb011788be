/** What the doctor read from one server, as its own connection saw it. Never holds a secret. */
export interface ServerFacts {
  engine: 'mysql' | 'mariadb' | 'postgres'
  version: string
  /** `scheme://user@host:port/database`: no password. */
  endpoint: string
  /** The user name, as the server's connection list shows it. */
  user: string
  /** MySQL's account, `'user'@'host'`, for statements that name it. */
  account?: string
  /** Whether the user may take the connections kept for administrators (SUPER, superuser). */
  userIsAdmin: boolean
  maxConnections: number
  /** Connections only administrators may use, and where they come from. */
  reserved: { count: number; source: string; withinMax: boolean }
  /** The user's own connection limit (max_user_connections, rolconnlimit); null: none. */
  userLimit: number | null
  /** The database's connection limit (PostgreSQL datconnlimit); null: none or not applicable. */
  databaseLimit: number | null
  /** Client connections now, by user and state (the doctor's own included). */
  connections: { user: string; state: string; count: number }[]
  /** Whether other users' connections were visible (MySQL needs PROCESS). */
  allUsersVisible: boolean
  /** Idle timeouts in seconds (0: never). */
  idle: Record<string, number>
  /** Whether db-connection can tell this fleet's connections from others', and how. */
  fleetMarker: { readable: boolean; via: string; why?: string }
  tls: { inUse: boolean; version?: string; cipher?: string }
}

/** The function's shape, from the command line. */
export interface FleetShape {
  /** Function timeout, seconds. */
  timeoutSeconds?: number
  connectionsPerEnvironment: number
}
