// One plain connection of the bystanders, on MySQL (mysql2) or PostgreSQL (pg) after DB_ENGINE:
// `query(sql)`, `close()`, `destroy()`. `quitCounts`: the server counts the goodbye as a statement
// (MySQL's COM_QUIT is in Questions; pg_stat_statements does not count a Terminate).
import mysql from 'mysql2/promise'
import pg from 'pg'

export const openClient = async (engine, config) => {
  if (engine === 'postgres') {
    const client = new pg.Client(config)
    client.on('error', () => {})
    await client.connect()
    return {
      quitCounts: false,
      query: (sql) => client.query(sql),
      close: () => client.end(),
      destroy: () => {
        client.connection?.stream?.destroy()
        client.end().catch(() => {})
      },
    }
  }
  const connection = await mysql.createConnection(config)
  connection.on('error', () => {})
  return {
    quitCounts: true,
    query: (sql) => connection.query(sql),
    close: () => connection.end(),
    destroy: () => connection.destroy(),
  }
}
