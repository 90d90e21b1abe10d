/**
 * Run inside a node's namespace: `node forwarder.js <socket path> <port>`. Forwards every
 * connection on the Unix socket to 127.0.0.1:<port> of the namespace, so a test outside reaches a
 * process's loopback-only API (a Unix socket is a file: the namespaces share the file system).
 */
import { rmSync } from 'node:fs'
import { createConnection, createServer } from 'node:net'

const [socketPath, portText] = process.argv.slice(2)
const port = Number(portText)
if (socketPath === undefined || !(port > 0 && port < 65536)) {
  process.stderr.write('usage: forwarder.js <socket path> <port>\n')
  process.exit(2)
}
rmSync(socketPath, { force: true })
const server = createServer((inbound) => {
  const outbound = createConnection({ host: '127.0.0.1', port })
  inbound.pipe(outbound)
  outbound.pipe(inbound)
  const close = (): void => {
    inbound.destroy()
    outbound.destroy()
  }
  inbound.on('error', close)
  outbound.on('error', close)
  inbound.on('close', close)
  outbound.on('close', close)
})
server.listen(socketPath, () => process.stdout.write('ready\n'))
for (const signal of ['SIGTERM', 'SIGINT'] as const)
  process.on(signal, () => server.close(() => process.exit(0)))
