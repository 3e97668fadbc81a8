// 3ID (did:3) golden vectors from the real @ceramicnetwork/3id-did-resolver 6.4.0.
//
//   node gen.mjs <out_dir>   writes <out_dir>/crates/did/testdata/js-threeid.json
//
// How the vectors are made (everything that decides a result is the published JS code):
//   * a 3ID is a TileDocument (family "3id") controlled by an Ed25519 did:key (key-did-provider-ed25519); its
//     content `publicKeys` holds a secp256k1 signing key and an X25519 encryption key, multibase multicodec strings
//     named by their last 15 characters, as 3id-did-provider wrote them. It is created, given keys, and rotated twice,
//     each update anchored; every commit is applied with the real TileDocumentHandler (@ceramicnetwork/stream-tile-
//     handler), which checks the controller's signatures.
//   * anchors: anchor commits and proof blocks in the shape js-ceramic writes (path "", root = the anchored commit),
//     with a block time per proof. Timestamps are given as js-ceramic core gives them when it loads a log: every
//     commit gets the timestamp of the first anchor at or after it in the log applied.
//   * a small in-memory Ceramic serves the states to the resolver: `multiQuery` answers each query with the latest
//     state, the state at a CommitID (the log up to it), or at `atTime` (up to the last anchor at or before it), keyed
//     by `query.streamId.toString()` like core (so a later query for the same key replaces an earlier one), and
//     `createStreamFromGenesis` (used for legacy v0 3IDs) returns the stream of that genesis, creating it if unknown.
//   * the legacy v0 document is served through a stand-in for the (retired) 3box API that LegacyResolver fetches.
//   * Tile commits signed with 3ID keys (kid `did:3:…?version-id=…#…`, ES256K via did-jwt) are applied with the real
//     TileDocumentHandler whose signer resolves did:3 through the same resolver; its verdict (applies or throws) is
//     recorded. dids' verifyJWS makes the key-rotation decision (nextUpdate + the 24 h phase-out that
//     stream-handler-common's SignatureUtils passes, and `updated`).

import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

import * as dagCbor from '@ipld/dag-cbor'
import * as dagJose from 'dag-jose'
import { CID } from 'multiformats/cid'
import { sha256 } from 'multiformats/hashes/sha2'
import { base58btc } from 'multiformats/bases/base58'
import { StreamID, CommitID } from '@ceramicnetwork/streamid'
import { CeramicSigner, EnvironmentUtils, EventType } from '@ceramicnetwork/common'
import { TileDocument } from '@ceramicnetwork/stream-tile'
import { TileDocumentHandler } from '@ceramicnetwork/stream-tile-handler'
import { getResolver as getThreeIdResolver } from '@ceramicnetwork/3id-did-resolver'
import { DID } from 'dids'
import { Ed25519Provider } from 'key-did-provider-ed25519'
import * as KeyDidResolver from 'key-did-resolver'
import { ES256KSigner, createJWS } from 'did-jwt'
import { secp256k1 } from '@noble/curves/secp256k1'
import { x25519 } from '@noble/curves/ed25519'

const outDir = process.argv[2]
if (!outDir) throw new Error('usage: node gen.mjs <out_dir>')

// TileDocument is served by js-ceramic nodes on go-ipfs (the 2021-22 deployments); the default is the v4 mode.
EnvironmentUtils.setIpfsFlavor('go')

const hex = (bytes) => Buffer.from(bytes).toString('hex')
const b64url = (bytes) => Buffer.from(bytes).toString('base64url')
const seed = (n) => new Uint8Array(32).fill(n)

// ---- blocks ------------------------------------------------------------------------------------------------------
const blocks = new Map() // cid string -> bytes
async function putCbor(value) {
  const bytes = dagCbor.encode(value)
  const cid = CID.create(1, dagCbor.code, await sha256.digest(bytes))
  blocks.set(cid.toString(), bytes)
  return cid
}
async function putJose(jws) {
  const bytes = dagJose.encode(jws)
  const cid = CID.create(1, dagJose.code, await sha256.digest(bytes))
  blocks.set(cid.toString(), bytes)
  return cid
}

// Commits as js-ceramic core hands them to the handler: decoded from their blocks (so maps have the
// canonical dag-cbor key order, not the order they were written in).
const fromBlock = (cid) => dagCbor.decode(blocks.get(cid.toString()))

// ---- keys ----------------------------------------------------------------------------------------------------------
function multikey(prefix, pub) {
  return base58btc.encode(new Uint8Array([prefix, 0x01, ...pub]))
}
function threeIdKeys(n) {
  const secret = seed(n)
  const signing = multikey(0xe7, secp256k1.getPublicKey(secret, true))
  const encryption = multikey(0xec, x25519.getPublicKey(seed(n + 100)))
  return { secret, signing, encryption, signingName: signing.slice(-15), encryptionName: encryption.slice(-15) }
}

// ---- an in-memory Ceramic --------------------------------------------------------------------------------------
const handler = new TileDocumentHandler()
const streams = new Map() // stream id string -> { id, commits: [commitData without timestamp] }
const chain = new Map() // proof cid string -> block time

function withTimestamps(commits) {
  const out = commits.map((c) => ({ ...c }))
  let covering
  for (let i = out.length - 1; i >= 0; i--) {
    if (out[i].type === EventType.TIME) covering = chain.get(out[i].commit.proof.toString())
    if (covering !== undefined) out[i].timestamp = covering
  }
  return out
}

async function stateOf(commits, context) {
  let state = null
  for (const commitData of withTimestamps(commits)) {
    state = await handler.applyCommit(commitData, context, state)
  }
  return state
}

// What the resolver was served: `<stream>|latest`, `<stream>|commit:<cid>`, `<stream>|time:<t>` -> state.
const served = new Map()
const created = new Set() // streams made by createStreamFromGenesis (not on the network before)
const servedState = (state) => ({
  content: state.content,
  log: state.log.map((e) => ({ cid: e.cid.toString(), anchor: e.type === EventType.TIME, timestamp: e.timestamp ?? null })),
})

const threeIdCeramic = {
  async multiQuery(queries) {
    const out = {}
    for (const query of queries) {
      const ref = query.streamId
      const stream = streams.get(ref.baseID ? ref.baseID.toString() : ref.toString())
      if (!stream) continue
      let commits = stream.commits
      if (ref instanceof CommitID) {
        const at = commits.findIndex((c) => c.cid.equals(ref.commit))
        if (at < 0) continue
        commits = commits.slice(0, at + 1)
      } else if (query.opts?.atTime !== undefined) {
        const times = withTimestamps(commits)
        let last = 0
        times.forEach((c, i) => {
          if (c.type === EventType.TIME && c.timestamp <= query.opts.atTime) last = i
        })
        commits = commits.slice(0, last + 1)
      }
      const state = await stateOf(commits, controllerContext)
      const at = ref instanceof CommitID ? `commit:${ref.commit}` : query.opts?.atTime !== undefined ? `time:${query.opts.atTime}` : 'latest'
      served.set(`${stream.id}|${at}`, servedState(state))
      out[ref.toString()] = { id: stream.id, state }
    }
    return out
  },
  async createStreamFromGenesis(type, genesis) {
    const cid = await putCbor(genesis)
    const id = new StreamID(type, cid)
    if (!streams.has(id.toString())) {
      created.add(id.toString())
      streams.set(id.toString(), { id, commits: [{ cid, type: EventType.INIT, commit: fromBlock(cid) }] })
    }
    const stream = streams.get(id.toString())
    return { id, state: await stateOf(stream.commits, controllerContext) }
  },
}

const resolverDid = new DID({
  resolver: { ...KeyDidResolver.getResolver(), ...getThreeIdResolver(threeIdCeramic) },
})
const controllerContext = { signer: CeramicSigner.fromDID(resolverDid) }

// ---- commits -----------------------------------------------------------------------------------------------------
async function signedCommitData(payload, sign) {
  const payloadCid = await putCbor(payload)
  const jws = await sign(payloadCid)
  const envelope = { payload: jws.payload, signatures: jws.signatures, link: payloadCid }
  const cid = await putJose(envelope)
  return { cid, envelope, commit: fromBlock(payloadCid) }
}

const didKeySign = (did) => async (payloadCid) => {
  const { jws } = await did.createDagJWS(dagCbor.decode(blocks.get(payloadCid.toString())))
  return jws
}

const threeIdSign = (kid, secret) => async (payloadCid) => {
  const payload = b64url(payloadCid.bytes)
  const compact = await createJWS(payload, ES256KSigner(secret), { alg: 'ES256K', kid })
  const [protectedHeader, , signature] = compact.split('.')
  return { payload, signatures: [{ protected: protectedHeader, signature }] }
}

async function anchorCommitData(streamId, prev, time) {
  const proof = { chainId: 'inmemory:12345', root: prev, txHash: await putCbor({ tx: prev, time }), txType: 'f(bytes32)' }
  const proofCid = await putCbor(proof)
  chain.set(proofCid.toString(), time)
  const commit = { id: streamId.cid, prev, proof: proofCid, path: '' }
  const cid = await putCbor(commit)
  return { cid, type: EventType.TIME, commit: fromBlock(cid), proof: fromBlock(proofCid) }
}

function patchFor(from, to) {
  // The JSON patch TileDocument.update would write for these contents (fast-json-patch `compare`).
  return [{ op: from.publicKeys ? 'replace' : 'add', path: '/publicKeys', value: to.publicKeys }]
}

// ---- the 3ID -------------------------------------------------------------------------------------------------------
const controller = new DID({ provider: new Ed25519Provider(seed(1)), resolver: KeyDidResolver.getResolver() })
await controller.authenticate()

const genesis = await TileDocument.makeGenesis({ signer: CeramicSigner.fromDID(controller) }, null, {
  controllers: [controller.id],
  family: '3id',
  deterministic: true,
})
const genesisCid = await putCbor(genesis)
const threeId = new StreamID(TileDocument.STREAM_TYPE_ID, genesisCid)
const threeIdLog = [{ cid: genesisCid, type: EventType.INIT, commit: fromBlock(genesisCid) }]
streams.set(threeId.toString(), { id: threeId, commits: threeIdLog })
const did3 = `did:3:${threeId.toString()}`

const keys = [threeIdKeys(11), threeIdKeys(12), threeIdKeys(13)]
const contentOf = (k) => ({ publicKeys: { [k.signingName]: k.signing, [k.encryptionName]: k.encryption } })
let content = {}
const versions = [] // { key index, update cid, anchor cid, anchor time }
const times = [1_700_000_000, 1_700_100_000, 1_700_200_000]
for (const [i, k] of keys.entries()) {
  const next = contentOf(k)
  const prev = threeIdLog[threeIdLog.length - 1].cid
  const payload = { data: patchFor(content, next), prev, id: genesisCid, header: {} }
  const data = await signedCommitData(payload, didKeySign(controller))
  threeIdLog.push({ ...data, type: EventType.DATA })
  const anchor = await anchorCommitData(threeId, data.cid, times[i])
  threeIdLog.push(anchor)
  versions.push({ key: i, update: data.cid.toString(), anchor: anchor.cid.toString(), time: times[i] })
  content = next
}
// The whole log must apply (the handler checks the controller's signatures).
await stateOf(threeIdLog, controllerContext)

// ---- resolutions ---------------------------------------------------------------------------------------------------
const iso = (t) => new Date(t * 1000).toISOString()
const urls = [
  did3,
  `${did3}?version-id=${genesisCid}`,
  `${did3}?versionId=${genesisCid}`,
  ...threeIdLog.slice(1).map((c) => `${did3}?version-id=${c.cid}`),
  `${did3}?versionTime=${iso(times[0] - 1)}`,
  `${did3}?versionTime=${iso(times[0])}`,
  `${did3}?versionTime=${iso(times[1] + 5)}`,
  `${did3}?versionTime=${iso(times[2] + 5)}`,
]
const resolutions = []
for (const url of urls) {
  resolutions.push({ url, result: JSON.stringify(await resolverDid.resolve(url)) })
}

// A legacy v0 3ID: its document is served by the stand-in 3box API; the deterministic tile is not on the network.
const legacyKey = secp256k1.getPublicKey(seed(21), false)
const legacyEncryption = x25519.getPublicKey(seed(22))
const legacyDoc = {
  '@context': 'https://w3id.org/did/v1',
  id: 'did:3:GENESIS',
  publicKey: [
    { id: 'did:3:GENESIS#signingKey', type: 'Secp256k1VerificationKey2018', publicKeyHex: hex(legacyKey) },
    {
      id: 'did:3:GENESIS#encryptionKey',
      type: 'Curve25519EncryptionPublicKey',
      publicKeyBase64: Buffer.from(legacyEncryption).toString('base64'),
    },
  ],
  authentication: [{ type: 'Secp256k1SignatureAuthentication2018', publicKey: 'did:3:GENESIS#signingKey' }],
}
const legacyCid = await putCbor(legacyDoc)
const legacyDocs = new Map([[legacyCid.toString(), legacyDoc]])
globalThis.fetch = async (url) => {
  const cid = new URL(url).searchParams.get('cid')
  const doc = legacyDocs.get(cid)
  return { ok: doc !== undefined, json: async () => ({ value: doc }) }
}
const legacyDid = `did:3:${legacyCid}`
resolutions.push({ url: legacyDid, result: JSON.stringify(await resolverDid.resolve(legacyDid)) })

// ---- Tile commits signed by 3ID keys ----------------------------------------------------------------------------
// Each case: a Tile controlled by the 3ID, its genesis signed with one version's key, anchored (or not) at a time.
const kidAt = (version, k) => `${did3}?version-id=${version}#${k.signingName}`
const cases = [
  // key 0 was published by update 0 (anchor times[0]) and rotated out by update 1 (anchor times[1]).
  { name: 'v1-key0-anchored-before-rotation', version: versions[0].anchor, key: 0, time: times[0] + 10 },
  { name: 'v1-key0-within-phase-out', version: versions[0].anchor, key: 0, time: times[1] + 3600 },
  { name: 'v1-key0-after-phase-out', version: versions[0].anchor, key: 0, time: times[1] + 86_400 + 1 },
  { name: 'v1-key0-unanchored-after-rotation', version: versions[0].anchor, key: 0, time: null },
  { name: 'v1-key0-anchored-before-version', version: versions[0].anchor, key: 0, time: times[0] - 10 },
  { name: 'v3-key2-latest', version: versions[2].anchor, key: 2, time: times[2] + 10 },
  { name: 'v3-key2-unanchored', version: versions[2].anchor, key: 2, time: null },
  { name: 'v2-key1-named-by-update-commit', version: versions[1].update, key: 1, time: times[1] + 10 },
  { name: 'v1-key1-not-in-that-version', version: versions[0].anchor, key: 1, time: times[0] + 10 },
  { name: 'no-version-latest-key2', version: null, key: 2, time: times[2] + 10 },
  { name: 'no-version-old-key0', version: null, key: 0, time: times[0] + 10 },
]
const commits = []
for (const [n, c] of cases.entries()) {
  const k = keys[c.key]
  const kid = c.version ? kidAt(c.version, k) : `${did3}#${k.signingName}`
  const genesisPayload = {
    data: { case: c.name },
    header: { controllers: [did3], family: 'threeid-vectors', unique: `case-${n}` },
  }
  const signed = await signedCommitData(genesisPayload, threeIdSign(kid, k.secret))
  const tile = new StreamID(TileDocument.STREAM_TYPE_ID, signed.cid)
  const log = [{ ...signed, type: EventType.INIT }]
  let anchor = null
  if (c.time !== null) {
    const a = await anchorCommitData(tile, signed.cid, c.time)
    log.push(a)
    anchor = a.cid.toString()
  }
  let valid = true
  let error = null
  try {
    await stateOf(log, controllerContext)
  } catch (e) {
    valid = false
    error = String(e.message ?? e)
  }
  commits.push({ name: c.name, stream: tile.toString(), kid, genesis: signed.cid.toString(), anchor, time: c.time, valid, error })
}

const hexBlocks = Object.fromEntries([...blocks.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([c, b]) => [c, hex(b)]))
const out = {
  generator: 'xtask/js-threeid/gen.mjs (@ceramicnetwork/3id-did-resolver 6.4.0, stream-tile-handler 6.4.0, dids 5.0.3)',
  threeId: { did: did3, stream: threeId.toString(), log: threeIdLog.map((c) => c.cid.toString()), versions },
  anchors: Object.fromEntries([...chain.entries()].sort()),
  legacy: { did: legacyDid, cid: legacyCid.toString(), document: legacyDoc, stream: [...created][0] ?? null },
  served: Object.fromEntries([...served.entries()].filter(([k]) => !created.has(k.split('|')[0])).sort(([a], [b]) => (a < b ? -1 : 1))),
  resolutions,
  commits,
  blocks: hexBlocks,
}
const dir = join(outDir, 'crates/did/testdata')
mkdirSync(dir, { recursive: true })
writeFileSync(join(dir, 'js-threeid.json'), JSON.stringify(out, null, 1) + '\n')
