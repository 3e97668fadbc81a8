// Drives a ceramic-rs node through the real, unmodified @ceramicnetwork/http-client 6.4.0:
// creates a TileDocument signed by a did:key (fixed seed), updates it twice, loads it by StreamID
// and by CommitID, lists its commits, runs a multiquery, and checks content, controllers and log
// lengths. Prints one JSON summary line on stdout; exits 1 on any mismatch or error.
//
//   node e2e.mjs <node url> [--anchor] [--second-node <url>] [--session]
//
// --session       write through a did-session CACAO session of an Ethereum wallet (fixed private
//                 key, EIP-1193 personal_sign stub, EthereumNodeAuth): the controller is the
//                 wallet's did:pkh, the session did:key signs, every commit carries the CACAO
// --anchor        also request an anchor (the node must have anchoring wired) and expect a status
// --second-node   also load the stream on a second node (needs networking between the two)
// Without --anchor, the script checks that the node refuses anchor requests with an HTTP error.

import { CeramicClient } from '@ceramicnetwork/http-client'
import { TileDocument } from '@ceramicnetwork/stream-tile'
import { CommitID, StreamID } from '@ceramicnetwork/streamid'
import { DID } from 'dids'
import { Ed25519Provider } from 'key-did-provider-ed25519'
import { getResolver } from 'key-did-resolver'

const SEED = Uint8Array.from({ length: 32 }, (_, i) => i) // 000102…1f, as the golden vectors use

function parseArgs(argv) {
  const args = { url: null, anchor: false, secondNode: null, session: false }
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]
    if (a === '--anchor') args.anchor = true
    else if (a === '--second-node') args.secondNode = argv[++i]
    else if (a === '--session') args.session = true
    else if (!args.url) args.url = a
    else throw new Error(`unexpected argument ${a}`)
  }
  if (!args.url) throw new Error('usage: node e2e.mjs <node url> [--anchor] [--second-node <url>]')
  return args
}

// JSON with object keys sorted: content comes back in dag-cbor key order (as from js-ceramic).
function canonical(value) {
  if (Array.isArray(value)) return value.map(canonical)
  if (value && typeof value === 'object' && value.constructor === Object) {
    return Object.fromEntries(Object.keys(value).sort().map((k) => [k, canonical(value[k])]))
  }
  return value
}

const failures = []
function check(what, actual, expected) {
  const [a, e] = [JSON.stringify(canonical(actual)), JSON.stringify(canonical(expected))]
  if (a !== e) failures.push(`${what}: got ${a}, expected ${e}`)
}

/** A did-session DID of an Ethereum wallet whose key is sha256("ceramic-rs cacao ethereum wallet"). */
async function ethereumSession() {
  const { createHash } = await import('node:crypto')
  const { DIDSession } = await import('did-session')
  const { EthereumNodeAuth } = await import('@didtools/pkh-ethereum')
  const { secp256k1 } = await import('@noble/curves/secp256k1')
  const { keccak_256 } = await import('@noble/hashes/sha3')
  const { bytesToHex, hexToBytes, utf8ToBytes, concatBytes } = await import('@noble/hashes/utils')
  const { AccountId } = await import('caip')
  const key = new Uint8Array(createHash('sha256').update('ceramic-rs cacao ethereum wallet').digest())
  const address = `0x${bytesToHex(keccak_256(secp256k1.getPublicKey(key, false).subarray(1)).subarray(-20))}`
  const provider = {
    async request({ method, params }) {
      if (method === 'eth_chainId') return '0x1'
      if (method !== 'personal_sign') throw new Error(`unexpected ${method}`)
      const message = hexToBytes(params[0].replace(/^0x/, ''))
      const prefix = utf8ToBytes(`\x19Ethereum Signed Message:\n${message.length}`)
      const sig = secp256k1.sign(keccak_256(concatBytes(prefix, message)), key)
      return `0x${bytesToHex(sig.toCompactRawBytes())}${(27 + sig.recovery).toString(16)}`
    },
  }
  const account = new AccountId({ address, chainId: 'eip155:1' })
  const authMethod = await EthereumNodeAuth.getAuthMethod(provider, account, 'e2e.ceramic-rs.test')
  const session = await DIDSession.authorize(authMethod, { resources: ['ceramic://*'] })
  return session.did
}

async function main() {
  const args = parseArgs(process.argv.slice(2))
  let did
  if (args.session) {
    did = await ethereumSession()
  } else {
    did = new DID({ provider: new Ed25519Provider(SEED), resolver: getResolver() })
    await did.authenticate()
  }
  // The controller: the wallet's did:pkh for a session (the CACAO issuer), else the did:key.
  const controller = did.hasParent ? did.parent : did.id
  const ceramic = new CeramicClient(args.url)
  ceramic.did = did
  const summary = { did: controller }

  // Create, then update twice.
  const contents = [
    { title: 'hello', count: 1 },
    { title: 'hello world', count: 2 },
    { title: 'hello world', count: 3, done: true, tags: ['a', 'b'], ratio: 0.5 },
  ]
  // With --anchor the node anchors on request: writes ask for no anchor (opts.anchor false), so
  // that only the explicit request below anchors and the log lengths checked here are exact.
  const writeOpts = args.anchor ? { anchor: false } : {}
  const doc = await TileDocument.create(ceramic, contents[0], { family: 'e2e', tags: ['t1'] }, writeOpts)
  summary.streamId = doc.id.toString()
  check('stream type', doc.id.type, 0)
  check('created content', doc.content, contents[0])
  check('controllers', doc.controllers, [controller])
  check('created log length', doc.state.log.length, 1)
  check('created metadata.family', doc.metadata.family, 'e2e')
  const commitIds = [doc.commitId.toString()]
  for (const content of contents.slice(1)) {
    await doc.update(content, undefined, writeOpts)
    commitIds.push(doc.commitId.toString())
  }
  summary.commitIds = commitIds
  check('updated content', doc.content, contents[2])
  check('updated log length', doc.state.log.length, 3)
  check('log types', doc.state.log.map((e) => e.type), [0, 1, 1])

  // Load by StreamID (a fresh client object: nothing cached).
  const loaded = await TileDocument.load(ceramic, doc.id)
  check('loaded content', loaded.content, contents[2])
  check('loaded controllers', loaded.controllers, [controller])
  check('loaded log length', loaded.state.log.length, 3)
  check('loaded tip', loaded.tip.toString(), doc.tip.toString())
  summary.anchorStatus = loaded.state.anchorStatus

  // Load by CommitID: every commit, the state as of it.
  summary.loadedByCommit = []
  for (const [i, commitId] of commitIds.entries()) {
    const atCommit = await ceramic.loadStream(CommitID.fromString(commitId))
    check(`content at commit ${i}`, atCommit.content, contents[i])
    check(`log length at commit ${i}`, atCommit.state.log.length, i + 1)
    summary.loadedByCommit.push(atCommit.state.log.length)
  }

  // The commits, as the client deserializes them.
  const commits = await ceramic.loadStreamCommits(doc.id)
  check('commit count', commits.length, 3)
  check('commit cids', commits.map((c) => c.cid), doc.state.log.map((e) => e.cid.toString()))
  for (const [i, c] of commits.entries()) {
    check(`commit ${i} is a signed container`, Boolean(c.value.jws && c.value.linkedBlock), true)
    check(`commit ${i} link`, c.value.jws.link.toString().startsWith('bafy'), true)
  }
  summary.commits = commits.length

  // A multiquery, keyed by the query's id.
  const results = await ceramic.multiQuery([{ streamId: doc.id }, { streamId: commitIds[0] }])
  check('multiquery keys', Object.keys(results).sort(), [summary.streamId, commitIds[0]].sort())
  check('multiquery content', results[summary.streamId].content, contents[2])
  summary.multiquery = Object.keys(results).length

  // A stream that does not exist is an error.
  const missing = new StreamID(0, doc.state.log[1].cid)
  summary.missingRefused = await ceramic.loadStream(missing).then(() => false, () => true)
  check('an unknown stream is refused', summary.missingRefused, true)

  summary.supportedChains = await ceramic.getSupportedChains()

  if (args.anchor) {
    summary.requestedAnchorStatus = await ceramic.requestAnchor(doc.id)
    check('anchor status is a number', typeof summary.requestedAnchorStatus, 'number')
    // Poll (as the client's Document does) until the anchor commit is applied.
    const deadline = Date.now() + 60000
    let anchored = await TileDocument.load(ceramic, doc.id)
    while (anchored.state.anchorStatus !== 3 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 200))
      anchored = await TileDocument.load(ceramic, doc.id)
    }
    check('anchored', anchored.state.anchorStatus, 3)
    check('anchored log types', anchored.state.log.map((e) => e.type), [0, 1, 1, 2])
    check('anchored content', anchored.content, contents[2])
    check('anchor proof chain', anchored.state.anchorProof && anchored.state.anchorProof.chainId, summary.supportedChains[0])
    summary.anchoredLog = anchored.state.log.length
    summary.anchorTimestamp = anchored.state.log[3].timestamp
  } else {
    summary.anchorRefused = await ceramic.requestAnchor(doc.id).then(() => false, () => true)
    check('an anchor request is refused without anchoring', summary.anchorRefused, true)
  }

  if (args.secondNode) {
    const other = new CeramicClient(args.secondNode)
    const there = await TileDocument.load(other, doc.id)
    check('content on the second node', there.content, contents[2])
    summary.secondNode = true
  }

  summary.content = doc.content
  summary.failures = failures
  console.log(JSON.stringify(summary))
  process.exit(failures.length === 0 ? 0 : 1)
}

main().catch((e) => {
  console.log(JSON.stringify({ error: String(e && e.stack ? e.stack : e), failures }))
  process.exit(1)
})
