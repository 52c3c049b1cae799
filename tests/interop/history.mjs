// Version history through the official y-websocket provider: one provider writes text A, a
// named version is taken over the REST API, text B replaces A, a second named version is
// taken, then the first is restored. Both providers must see text A again, live; the history
// must list the restore as the newest version, and the diff of the two versions must name what
// B added and removed.
// Usage: node history.mjs HTTP_BASE WS_BASE ITEM_ID DOC_ID TOKEN
// Prints one JSON line with what it saw.
import * as Y from 'yjs'
import { WebsocketProvider } from 'y-websocket'
import WebSocket from 'ws'

const [httpBase, wsBase, itemId, docId, token] = process.argv.slice(2)
const TIMEOUT_MS = 20000
const timer = setTimeout(() => {
  console.error('timed out')
  process.exit(2)
}, TIMEOUT_MS)

function connect () {
  const doc = new Y.Doc()
  const provider = new WebsocketProvider(wsBase, docId, doc, {
    WebSocketPolyfill: WebSocket,
    params: { token }
  })
  return { doc, provider, fragment: doc.getXmlFragment('document-store') }
}

function synced (client) {
  return new Promise((resolve) => {
    if (client.provider.synced) resolve()
    else client.provider.once('sync', (isSynced) => { if (isSynced) resolve() })
  })
}

const text = (client) => client.fragment.toArray()
  .map((p) => p.toArray().map((t) => t.toString()).join(''))
  .join('\n')

function until (client, want) {
  return new Promise((resolve) => {
    const check = () => {
      if (text(client) === want) {
        client.doc.off('update', check)
        resolve()
      }
    }
    client.doc.on('update', check)
    check()
  })
}

function write (client, value) {
  client.doc.transact(() => {
    client.fragment.delete(0, client.fragment.length)
    const p = new Y.XmlElement('paragraph')
    p.insert(0, [new Y.XmlText(value)])
    client.fragment.insert(0, [p])
  })
}

async function api (method, path, body) {
  const response = await fetch(`${httpBase}/api/v1/items/${itemId}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body)
  })
  if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${await response.text()}`)
  return response.json()
}

const a = connect()
const b = connect()
await Promise.all([synced(a), synced(b)])
const textA = 'Text A: the Lisbon residency'
const textB = 'Text B: a Nantes workshop instead'
write(a, textA)
// The server broadcasts only what it committed, so b seeing it means it is saved.
await until(b, textA)
const versionA = await api('POST', '/versions', { name: 'Submitted to Creative Europe' })
write(a, textB)
await until(b, textB)
const versionB = await api('POST', '/versions', { name: 'Draft B' })
const restored = await api('POST', `/versions/${versionA.id}/restore`)
await Promise.all([until(a, textA), until(b, textA)])
const history = await api('GET', '/versions')
const diff = await api('GET', `/versions/${versionA.id}/diff/${versionB.id}`)
console.log(JSON.stringify({
  a: text(a),
  b: text(b),
  restored,
  newest: history[0],
  versions: history.map((v) => v.id),
  added: diff.added,
  removed: diff.removed
}))
clearTimeout(timer)
a.provider.destroy()
b.provider.destroy()
process.exit(0)
