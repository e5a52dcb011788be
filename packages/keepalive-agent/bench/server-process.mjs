// The benchmarks' HTTPS server in its own process, so its TLS and HTTP work does not run on the
// client's event loop: started with fork(), it reports { url, ca } and answers counter requests.
import { HttpsTestServer } from '../test/support/https-test-server.mjs'

const latencyMs = Number(process.argv[2] ?? 0)
const server = await HttpsTestServer.start({ latencyMs })
server.objects.set('bucket/object', Buffer.from('x'.repeat(1024)))
process.on('message', async (message) => {
  if (message === 'counters') {
    process.send({ handshakes: server.handshakes, connections: server.connections, open: server.open })
  } else if (message === 'close') {
    await server.close()
    process.disconnect()
  }
})
process.send({ url: server.url, ca: server.ca })
