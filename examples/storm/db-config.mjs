// The connection options of the storm's database (mysql2 and pg take the same fields), from the
// DB_* variables runStorm sets.
export const dbConfigFrom = (env) => ({
  host: env.DB_HOST ?? '127.0.0.1',
  port: Number(env.DB_PORT ?? 3306),
  user: env.DB_USER ?? 'root',
  password: env.DB_PASSWORD ?? '',
  database: env.DB_NAME ?? 'test',
})
