// Hocuspocus as most deployments start it, minus persistence: documents live in memory.
// Usage: node hocuspocus.mjs PORT
import { Server } from '@hocuspocus/server'

const port = Number(process.argv[2] ?? process.env.PORT ?? 1234)
const server = new Server({ port, address: '127.0.0.1', quiet: true })
await server.listen()
