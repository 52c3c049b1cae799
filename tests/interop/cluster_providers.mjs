// Two official y-websocket providers on one document, each on another Hubring node.
// Usage: node cluster_providers.mjs NODE_A_URL NODE_B_URL DOC_ID
// Each writes to a Y.Text, a Y.Map and a Y.Array before hearing from the other, and waits to see
// the other's edits and presence. Prints one JSON line: both documents as JSON.
import * as Y from 'yjs'
import { WebsocketProvider } from 'y-websocket'
import WebSocket from 'ws'

const [urlA, urlB, docId] = process.argv.slice(2)
const TIMEOUT_MS = 20000

function connect (name, url) {
  const doc = new Y.Doc()
  const provider = new WebsocketProvider(url, docId, doc, { WebSocketPolyfill: WebSocket })
  provider.awareness.setLocalStateField('user', { name })
  return { name, doc, provider }
}

function synced (client) {
  return new Promise((resolve) => {
    if (client.provider.synced) resolve()
    else client.provider.once('sync', (isSynced) => { if (isSynced) resolve() })
  })
}

function edit (client) {
  client.doc.transact(() => {
    client.doc.getText('t').insert(0, `[${client.name}]`)
    client.doc.getMap('m').set(client.name, { n: 1 })
    client.doc.getArray('a').push([client.name])
  })
}

function holds (client, names) {
  const t = client.doc.getText('t').toString()
  const m = client.doc.getMap('m')
  const a = client.doc.getArray('a').toArray()
  return names.every((n) => t.includes(`[${n}]`) && m.has(n) && a.includes(n))
}

function sees (client, name) {
  return [...client.provider.awareness.getStates().values()].some((s) => s.user?.name === name)
}

function until (client, pred) {
  return new Promise((resolve) => {
    const check = () => {
      if (pred()) {
        client.doc.off('update', check)
        client.provider.awareness.off('change', check)
        resolve()
      }
    }
    client.doc.on('update', check)
    client.provider.awareness.on('change', check)
    check()
  })
}

const timer = setTimeout(() => {
  console.error('timed out')
  process.exit(2)
}, TIMEOUT_MS)

const a = connect('on-a', urlA)
const b = connect('on-b', urlB)
await Promise.all([synced(a), synced(b)])
edit(a)
edit(b)
const names = ['on-a', 'on-b']
await Promise.all([
  until(a, () => holds(a, names) && sees(a, 'on-b')),
  until(b, () => holds(b, names) && sees(b, 'on-a'))
])
console.log(JSON.stringify({ a: a.doc.toJSON(), b: b.doc.toJSON() }))
clearTimeout(timer)
a.provider.destroy()
b.provider.destroy()
process.exit(0)
