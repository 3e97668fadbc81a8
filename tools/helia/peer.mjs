// A helia (js-libp2p 3) bitswap peer for the ceramic-bitswap interop tests.
//
// Run with the npm-installed Node 22: node_modules/node/bin/node peer.mjs [TEXT]
// - listens on 127.0.0.1 (tcp + noise + yamux, identify, bitswap 1.2.0),
// - holds one dag-cbor block {"hello": "from helia", "text": TEXT} and prints `CID <cid>` and
//   `DATA <hex>`, then `ADDR <multiaddr>/p2p/<peer id>` once it is listening;
// - reads commands from stdin, one per line:
//     DIAL <multiaddr>        connect, print `DIALED <peer id>` (or `ERR dial <message>`)
//     FETCH <cid> [<multiaddr>]  fetch a block over bitswap (dialing the address first if given),
//                             print `GOT <cid> <hex>` or `ERR <cid> <message>`
//     PUT <hex>               store a dag-cbor block, print `PUT <cid>`
//     PUTCID <cid> <hex>      store bytes under a CID of any codec (the bytes must hash to
//                             it), print `PUT <cid>` (or `ERR <cid> <message>`)
//     PIN <cid> [<multiaddr>] fetch a block over bitswap (dialing the address first if given)
//                             and pin it (depth 0), print `PINNED <cid>` or `ERR <cid> <message>`
// - with HELIA_CONTROL=1, also serves the same over HTTP on 127.0.0.1 (a backup target's
//   control interface) and prints `CONTROL http://127.0.0.1:<port>` before the ADDR lines:
//     POST /pin/<cid>[?from=<multiaddr>]  as PIN: 200 `PINNED <cid>`, else 502 with the message
//     GET /block/<cid>                    a pinned or stored block's bytes (local only), else 404
//     GET /pinned/<cid>                   200 `true` or `false`
// - exits when stdin closes.
import { createHeliaLight } from 'helia'
import { withLibp2pLight } from '@helia/libp2p'
import { withBitswap } from '@helia/bitswap'
import { tcp } from '@libp2p/tcp'
import { noise } from '@libp2p/noise'
import { yamux } from '@libp2p/yamux'
import { identify } from '@libp2p/identify'
import { multiaddr } from '@multiformats/multiaddr'
import * as dagCbor from '@ipld/dag-cbor'
import { CID } from 'multiformats/cid'
import { sha256 } from 'multiformats/hashes/sha2'
import { createInterface } from 'node:readline'
import { createServer } from 'node:http'

const hex = (bytes) => Buffer.from(bytes).toString('hex')

// Pins here are depth 0 (a backup pins every block itself), so signed commits (dag-jose, 0x85)
// need no decoder: their links are never walked.
const dagJoseLeaf = { name: 'dag-jose', code: 0x85, encode: (b) => b, decode: () => ({}) }
const helia = withBitswap(withLibp2pLight(createHeliaLight({ codecs: [dagCbor, dagJoseLeaf] }), {
  addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
  transports: [tcp()],
  connectionEncrypters: [noise()],
  streamMuxers: [yamux()],
  services: { identify: identify() }
}))
await helia.start()

async function put (bytes) {
  const cid = CID.createV1(dagCbor.code, await sha256.digest(bytes))
  await helia.blockstore.put(cid, bytes)
  return cid
}

const own = dagCbor.encode({ hello: 'from helia', text: process.argv[2] ?? 'interop' })
console.log(`CID ${await put(own)}`)
console.log(`DATA ${hex(own)}`)
async function pin (cid, addr) {
  if (addr != null) {
    await helia.libp2p.dial(multiaddr(addr))
  }
  if (!(await helia.pins.isPinned(cid))) {
    for await (const _ of helia.pins.add(cid, { depth: 0, signal: AbortSignal.timeout(60_000) })) {
      // each pinned block
    }
  }
}

if (process.env.HELIA_CONTROL === '1') {
  const server = createServer((req, res) => {
    const url = new URL(req.url, 'http://127.0.0.1')
    const [, action, text] = url.pathname.split('/')
    const answer = (status, body) => { res.writeHead(status); res.end(body) }
    Promise.resolve().then(async () => {
      const cid = CID.parse(text ?? '')
      if (req.method === 'POST' && action === 'pin') {
        await pin(cid, url.searchParams.get('from') ?? undefined)
        answer(200, `PINNED ${cid}`)
      } else if (req.method === 'GET' && action === 'block') {
        if (!(await helia.blockstore.has(cid))) return answer(404, 'not here')
        const chunks = []
        for await (const chunk of helia.blockstore.get(cid, { offline: true })) chunks.push(chunk)
        answer(200, Buffer.concat(chunks))
      } else if (req.method === 'GET' && action === 'pinned') {
        answer(200, String(await helia.pins.isPinned(cid)))
      } else {
        answer(404, 'unknown')
      }
    }).catch((err) => answer(502, err.message))
  })
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  console.log(`CONTROL http://127.0.0.1:${server.address().port}`)
}

for (const addr of helia.libp2p.getMultiaddrs()) {
  console.log(`ADDR ${addr}`)
}

async function fetch (cid, addr) {
  if (addr != null) {
    await helia.libp2p.dial(multiaddr(addr))
  }
  const chunks = []
  for await (const chunk of helia.blockstore.get(cid, { signal: AbortSignal.timeout(60_000) })) {
    chunks.push(chunk)
  }
  return Buffer.concat(chunks)
}

const lines = createInterface({ input: process.stdin })
lines.on('line', (line) => {
  const [command, ...args] = line.trim().split(/\s+/)
  Promise.resolve().then(async () => {
    if (command === 'DIAL') {
      try {
        const conn = await helia.libp2p.dial(multiaddr(args[0]))
        console.log(`DIALED ${conn.remotePeer}`)
      } catch (err) {
        console.log(`ERR dial ${err.message}`)
      }
    } else if (command === 'FETCH') {
      try {
        const bytes = await fetch(CID.parse(args[0]), args[1])
        console.log(`GOT ${args[0]} ${hex(bytes)}`)
      } catch (err) {
        console.log(`ERR ${args[0]} ${err.message}`)
      }
    } else if (command === 'PUTCID') {
      const cid = CID.parse(args[0])
      const bytes = Buffer.from(args[1], 'hex')
      const digest = await sha256.digest(bytes)
      if (Buffer.compare(Buffer.from(digest.bytes), Buffer.from(cid.multihash.bytes)) !== 0) {
        console.log(`ERR ${args[0]} bytes do not hash to the CID`)
      } else {
        await helia.blockstore.put(cid, bytes)
        console.log(`PUT ${cid}`)
      }
    } else if (command === 'PIN') {
      try {
        await pin(CID.parse(args[0]), args[1])
        console.log(`PINNED ${args[0]}`)
      } catch (err) {
        console.log(`ERR ${args[0]} ${err.message}`)
      }
    } else if (command === 'PUT') {
      console.log(`PUT ${await put(Buffer.from(args[0], 'hex'))}`)
    } else if (command !== undefined && command !== '') {
      console.log(`ERR unknown command ${command}`)
    }
  })
})
lines.on('close', async () => {
  await helia.stop()
  process.exit(0)
})
