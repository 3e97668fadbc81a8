// A js-libp2p 3 gossipsub peer for the interop test (crates/net/tests/it/interop.rs).
// Usage: node peer.mjs <topic>
// Listens on 127.0.0.1 (free port), subscribes to <topic>, prints `ADDR <multiaddr>`; prints
// `GOT <message>` for each message received on the topic; publishes each stdin line on the topic
// and prints `SENT <recipients>` or `ERR <reason>`. Exits when stdin closes.
import { createLibp2p } from 'libp2p'
import { tcp } from '@libp2p/tcp'
import { noise } from '@libp2p/noise'
import { yamux } from '@libp2p/yamux'
import { identify } from '@libp2p/identify'
import { gossipsub } from '@libp2p/gossipsub'
import readline from 'node:readline'

const topic = process.argv[2]
if (!topic) {
  console.error('usage: node peer.mjs <topic>')
  process.exit(2)
}
const node = await createLibp2p({
  addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
  transports: [tcp()],
  connectionEncrypters: [noise()],
  streamMuxers: [yamux()],
  services: {
    identify: identify(),
    pubsub: gossipsub({ allowPublishToZeroTopicPeers: true, heartbeatInterval: 200 }),
  },
})
node.services.pubsub.subscribe(topic)
node.services.pubsub.addEventListener('message', (evt) => {
  if (evt.detail.topic === topic) {
    console.log('GOT ' + new TextDecoder().decode(evt.detail.data))
  }
})
console.log('ADDR ' + node.getMultiaddrs()[0].toString())

const lines = readline.createInterface({ input: process.stdin })
lines.on('line', async (line) => {
  try {
    const result = await node.services.pubsub.publish(topic, new TextEncoder().encode(line))
    console.log('SENT ' + result.recipients.length)
  } catch (e) {
    console.log('ERR ' + e.message)
  }
})
lines.on('close', async () => {
  await node.stop()
  process.exit(0)
})
