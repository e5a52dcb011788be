import { randomUUID } from 'node:crypto'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import mysql from 'mysql2/promise'
import { columnsOf, fieldOf } from './fields.js'
import { ApiError, bindNamed, type WireParameter } from './sql.js'

/** The database the stand-in runs statements on (e.g. `MariaDbServer.config`). */
export interface DataApiStandInOptions {
  database: { host: string; port: number; user: string; password: string; database: string }
  /** Most database connections the endpoint's own pool opens (the service's side). @default 20 */
  connectionLimit?: number
}

interface ExecuteBody {
  resourceArn?: string
  secretArn?: string
  sql?: string
  parameters?: WireParameter[]
  parameterSets?: WireParameter[][]
  includeResultMetadata?: boolean
  transactionId?: string
}

/** The Data API's response limit. */
const maxResponseBytes = 1024 * 1024

/**
 * A local Aurora Data API endpoint: the REST+JSON routes `@aws-sdk/client-rds-data` calls,
 * running the statements on a private MariaDB. It can act out a paused cluster
 * (`DatabaseResumingException` until it has "resumed") and slow answers. Credentials and
 * signatures are not checked; the ARNs must be present.
 *
 * @example
 * const endpoint = await DataApiStandIn.start({ database: mariadb.config })
 * const client = new RDSDataClient({ endpoint: endpoint.url, region: 'us-east-1', credentials })
 */
export class DataApiStandIn {
  /** Requests received, per route (`/Execute`, `/BeginTransaction`, …). */
  readonly calls: Record<string, number> = {}
  /** Added before every answer. */
  delayMs = 0
  #resumesAt = 0
  readonly #transactions = new Map<string, mysql.PoolConnection>()

  private constructor(
    private readonly server: http.Server,
    private readonly pool: mysql.Pool,
  ) {}

  static async start(options: DataApiStandInOptions): Promise<DataApiStandIn> {
    const pool = mysql.createPool({
      ...options.database,
      connectionLimit: options.connectionLimit ?? 20,
      dateStrings: true,
      supportBigNumbers: true,
      bigNumberStrings: true,
    })
    let standIn: DataApiStandIn | undefined
    const server = http.createServer((req, res) => {
      standIn?.handle(req, res)
    })
    standIn = new DataApiStandIn(server, pool)
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    return standIn
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port
  }

  /** What to pass as the client's `endpoint`. */
  get url(): string {
    return `http://127.0.0.1:${this.port}`
  }

  /** Acts out a paused cluster: every call answers `DatabaseResumingException` for `ms`. */
  pause(ms: number): void {
    this.#resumesAt = Date.now() + ms
  }

  get paused(): boolean {
    return Date.now() < this.#resumesAt
  }

  /** Open transactions (begun, neither committed nor rolled back). */
  get openTransactions(): number {
    return this.#transactions.size
  }

  /** HTTP connections open to the endpoint now. */
  connections(): Promise<number> {
    return new Promise((resolve, reject) =>
      this.server.getConnections((error, count) => (error ? reject(error) : resolve(count))),
    )
  }

  async dispose(): Promise<void> {
    for (const connection of this.#transactions.values()) connection.destroy()
    this.#transactions.clear()
    this.server.closeAllConnections()
    await new Promise((resolve) => this.server.close(resolve))
    await this.pool.end()
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.on('end', () => {
      const route = (req.url ?? '').split('?')[0] ?? ''
      this.calls[route] = (this.calls[route] ?? 0) + 1
      this.answer(route, Buffer.concat(chunks).toString('utf8'))
        .then((body) => this.reply(res, 200, body))
        .catch((error: unknown) => {
          const e =
            error instanceof ApiError
              ? error
              : new ApiError(500, 'InternalServerErrorException', String(error))
          this.reply(res, e.status, { message: e.message }, e.type)
        })
    })
  }

  private async reply(res: http.ServerResponse, status: number, body: object, errorType?: string) {
    // A client that gave up (aborted) ends the wait: no timer outlives its request.
    if (this.delayMs > 0) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, this.delayMs)
        res.once('close', () => {
          clearTimeout(timer)
          resolve()
        })
      })
    }
    if (res.destroyed) return
    const text = JSON.stringify(body)
    const headers: Record<string, string> = { 'content-type': 'application/json' }
    if (errorType) headers['x-amzn-ErrorType'] = errorType
    res.writeHead(status, headers).end(text)
  }

  private async answer(route: string, text: string): Promise<object> {
    const body = JSON.parse(text || '{}') as ExecuteBody
    if (!body.resourceArn || !body.secretArn) {
      throw new ApiError(400, 'BadRequestException', 'resourceArn and secretArn are required')
    }
    if (this.paused) {
      throw new ApiError(
        400,
        'DatabaseResumingException',
        'The Aurora DB instance db-1 is resuming after being auto-paused. Please wait a few seconds and try again.',
      )
    }
    switch (route) {
      case '/Execute':
        return this.execute(body)
      case '/BatchExecute':
        return this.batch(body)
      case '/BeginTransaction':
        return this.begin()
      case '/CommitTransaction':
        return this.end(body, 'COMMIT', 'Transaction Committed')
      case '/RollbackTransaction':
        return this.end(body, 'ROLLBACK', 'Rollback Complete')
    }
    throw new ApiError(404, 'NotFoundException', `no route ${route}`)
  }

  private connectionFor(transactionId: string | undefined): mysql.Pool | mysql.PoolConnection {
    if (transactionId === undefined) return this.pool
    const connection = this.#transactions.get(transactionId)
    if (!connection)
      throw new ApiError(400, 'BadRequestException', `Transaction ${transactionId} is not found`)
    return connection
  }

  private async run(body: ExecuteBody, parameters: WireParameter[] | undefined) {
    const { sql, values } = bindNamed(body.sql ?? '', parameters)
    try {
      return await this.connectionFor(body.transactionId).query(sql, values)
    } catch (error) {
      const e = error as { errno?: number; sqlMessage?: string }
      if (e.errno === undefined) throw error
      throw new ApiError(
        400,
        'BadRequestException',
        `Database error code: ${e.errno}. Message: ${e.sqlMessage}`,
      )
    }
  }

  private async execute(body: ExecuteBody): Promise<object> {
    const [result, fields] = await this.run(body, body.parameters)
    if (!Array.isArray(result)) {
      const { affectedRows, insertId } = result as mysql.ResultSetHeader
      return {
        numberOfRecordsUpdated: affectedRows,
        generatedFields: insertId ? [{ longValue: insertId }] : [],
      }
    }
    const columns = columnsOf(fields ?? [])
    const records = (result as Record<string, unknown>[]).map((row) =>
      columns.map((column) => fieldOf(row[column.label], column)),
    )
    const answer = {
      records,
      numberOfRecordsUpdated: 0,
      ...(body.includeResultMetadata ? { columnMetadata: columns } : {}),
    }
    if (JSON.stringify(answer).length > maxResponseBytes) {
      throw new ApiError(
        400,
        'BadRequestException',
        'Database returned more than the allowed response size limit',
      )
    }
    return answer
  }

  private async batch(body: ExecuteBody): Promise<object> {
    const updateResults = []
    for (const set of body.parameterSets ?? [[]]) {
      const [result] = await this.run(body, set)
      const { insertId } = result as mysql.ResultSetHeader
      updateResults.push({ generatedFields: insertId ? [{ longValue: insertId }] : [] })
    }
    return { updateResults }
  }

  private async begin(): Promise<object> {
    const connection = await this.pool.getConnection()
    await connection.query('START TRANSACTION')
    const transactionId = randomUUID()
    this.#transactions.set(transactionId, connection)
    return { transactionId }
  }

  private async end(body: ExecuteBody, sql: string, transactionStatus: string): Promise<object> {
    const connection = this.connectionFor(body.transactionId) as mysql.PoolConnection
    this.#transactions.delete(body.transactionId as string)
    try {
      await connection.query(sql)
    } finally {
      connection.release()
    }
    return { transactionStatus }
  }
}
