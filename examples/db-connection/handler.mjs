// An orders API handler: one managed MySQL/MariaDB connection per Lambda environment.
import middy from '@middy/core'
import dbConnection from '@middy-downstream/db-connection'

export const handler = middy()
  .use(
    dbConnection({
      config: {
        host: process.env.DB_HOST ?? '127.0.0.1',
        port: Number(process.env.DB_PORT ?? 3306),
        user: process.env.DB_USER ?? 'root',
        database: process.env.DB_NAME ?? 'test',
      },
      // A value, or a function returning a fresh one for each new connection (RDS IAM tokens).
      password: async () => process.env.DB_PASSWORD ?? '',
      onEvent: (event) => {
        if (process.env.LOG_EVENTS)
          console.log(`  [db-connection] ${event.type}${event.reason ? ` (${event.reason})` : ''}`)
      },
    }),
  )
  .handler(async (event, context) => {
    if (event.order) {
      return context.db.transaction(async (tx) => {
        const header = await tx.query('INSERT INTO orders (item, quantity) VALUES (?, ?)', [
          event.order.item,
          event.order.quantity,
        ])
        await tx.query('UPDATE stock SET quantity = quantity - ? WHERE item = ?', [
          event.order.quantity,
          event.order.item,
        ])
        return { statusCode: 201, orderId: header.insertId }
      })
    }
    const rows = await context.db.query('SELECT id, item, quantity FROM orders WHERE id = ?', [event.id])
    return rows.length ? { statusCode: 200, order: rows[0] } : { statusCode: 404 }
  })

export const schema = [
  'CREATE TABLE IF NOT EXISTS orders (id INT PRIMARY KEY AUTO_INCREMENT, item VARCHAR(50), quantity INT)',
  'CREATE TABLE IF NOT EXISTS stock (item VARCHAR(50) PRIMARY KEY, quantity INT)',
  "INSERT INTO stock VALUES ('apple', 100) ON DUPLICATE KEY UPDATE quantity = 100",
]
