// Two official y-websocket providers edit one document on a Hubring server, beside a Rust
// client the calling test drives. Usage: node two_providers.mjs SERVER_URL DOC_ID RUST_MARKER
// Prints one JSON line: both providers' final text, once each holds all three clients' edits.
import * as Y from 'yjs'
import { WebsocketProvider } from 'y-websocket'
import WebSocket from 'ws'

const [serverUrl, docId, rustMarker] = process.argv.slice(2)
const TIMEOUT_MS = 20000

function connect (name) {
  const doc = new Y.Doc()
  const provider = new WebsocketProvider(serverUrl, docId, doc, { WebSocketPolyfill: WebSocket })
  provider.awareness.setLocalStateField('user', { name })
  return { name, doc, provider, text: doc.getText('t') }
}

function synced (client) {
  return new Promise((resolve) => {
    if (client.provider.synced) resolve()
    else client.provider.once('sync', (isSynced) => { if (isSynced) resolve() })
  })
}

function holdsAll (client, markers) {
  return new Promise((resolve) => {
    const check = () => {
      const s = client.text.toString()
      if (markers.every((m) => s.includes(m))) {
        client.text.unobserve(check)
        resolve(s)
      }
    }
    client.text.observe(check)
    check()
  })
}

const timer = setTimeout(() => {
  console.error('timed out')
  process.exit(2)
}, TIMEOUT_MS)

const a = connect('node-a')
const b = connect('node-b')
await Promise.all([synced(a), synced(b)])
// Concurrent edits: both write before hearing from the other.
a.doc.transact(() => a.text.insert(0, '[node-a]'))
b.doc.transact(() => b.text.insert(0, '[node-b]'))
const markers = ['[node-a]', '[node-b]', rustMarker]
const [textA, textB] = await Promise.all([holdsAll(a, markers), holdsAll(b, markers)])
console.log(JSON.stringify({ a: textA, b: textB }))
clearTimeout(timer)
a.provider.destroy()
b.provider.destroy()
process.exit(0)
