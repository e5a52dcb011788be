import { describe, expect, it } from '@jest/globals'
import { diagnose, parseEndpoint } from '../src/index.js'

describe('parseEndpoint', () => {
  it('takes the URL apart and shows it without the password', () => {
    const endpoint = parseEndpoint(
      'postgresql://app:p%40ss-w0rd!@db.internal:6432/orders?sslmode=verify-full',
    )
    expect(endpoint).toMatchObject({
      engine: 'postgres',
      host: 'db.internal',
      port: 6432,
      user: 'app',
      password: 'p@ss-w0rd!',
      database: 'orders',
      tls: 'verify-full',
      display: 'postgresql://app@db.internal:6432/orders',
    })
    expect(parseEndpoint('mariadb://app@db').port).toBe(3306)
  })

  it('refuses other schemes and TLS modes, and a non-URL, without echoing it', async () => {
    expect(() => parseEndpoint('redis://h')).toThrow(/unsupported scheme "redis:"/)
    expect(() => parseEndpoint('mysql://h?sslmode=maybe')).toThrow(/unknown sslmode "maybe"/)
    await expect(diagnose('not a url with s3cret-Value')).rejects.toThrow(/^the connection URL is not a URL/)
    await expect(diagnose('not a url with s3cret-Value')).rejects.not.toThrow(/s3cret/)
  })
})
