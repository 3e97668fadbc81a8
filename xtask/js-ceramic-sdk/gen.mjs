#!/usr/bin/env node
// Golden Ceramic event and StreamID vectors for ceramic-rs, made by the real @ceramic-sdk 0.12.0
// packages.
//
//   node gen.mjs <out_dir>   writes <out_dir>/crates/event/testdata/js-ceramic-sdk.json
//
// did:key signers come from fixed Ed25519 seeds (@didtools/key-did `getAuthenticatedDID`); the
// CACAO session is did-session's `createDIDKey(seed)` + `DIDSession.initDID` over a CACAO made by
// `EthereumNodeAuth` with a fixed secp256k1 wallet key (as xtask/js-identity does). The clock is
// fixed and `crypto.getRandomValues` (the SDK's random `unique` of `list` instances) is replaced by
// a seeded stream, so every run writes the same bytes. Events are made by the SDK's own functions
// (`@ceramic-sdk/model-client` and `@ceramic-sdk/model-instance-client` `createInitEvent` /
// `createDataEvent` / `getDeterministicInitEventPayload`) and encoded with
// `@ceramic-sdk/events` `eventToCAR` / `carToString`; StreamIDs with `getModelStreamID`,
// `getStreamID` and `getDeterministicStreamID`. The SDK does not make time events (the anchor
// service does) nor EventIDs; the time event here is the SDK's `TimeEvent` codec, with its proof
// and Merkle node put into the CAR after it as ceramic-one writes them. EventID vectors are
// rust-ceramic's own (crates/event/src/event_id.rs tests). Run through `cargo xtask vectors`.

import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { createHash } from 'node:crypto'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

import { InitEventPayload, TimeEvent, carToString, eventToCAR } from '@ceramic-sdk/events'
import { CommitID, StreamID } from '@ceramic-sdk/identifiers'
import { createInitEvent as createModelInitEvent } from '@ceramic-sdk/model-client'
import {
  createDataEvent,
  createInitEvent,
  getDeterministicInitEventPayload,
} from '@ceramic-sdk/model-instance-client'
import { getDeterministicStreamID, getStreamID } from '@ceramic-sdk/model-instance-protocol'
import { MODEL, getModelStreamID } from '@ceramic-sdk/model-protocol'
import { getAuthenticatedDID } from '@didtools/key-did'
import { EthereumNodeAuth } from '@didtools/pkh-ethereum'
import * as dagCbor from '@ipld/dag-cbor'
import { secp256k1 } from '@noble/curves/secp256k1'
import { keccak_256 } from '@noble/hashes/sha3'
import { bytesToHex, concatBytes, hexToBytes, utf8ToBytes } from '@noble/hashes/utils'
import { AccountId } from 'caip'
import { CARFactory } from 'cartonne'
import { DIDSession, createDIDKey } from 'did-session'
import { CID } from 'multiformats/cid'
import { create as createDigest } from 'multiformats/hashes/digest'

const here = dirname(fileURLToPath(import.meta.url))
const PKGS = ['@ceramic-sdk/events', '@ceramic-sdk/identifiers', '@ceramic-sdk/model-client',
  '@ceramic-sdk/model-instance-client', '@ceramic-sdk/model-instance-protocol',
  '@ceramic-sdk/model-protocol', '@didtools/key-did', 'did-session', 'dids', '@didtools/cacao',
  '@didtools/pkh-ethereum', 'cartonne']
const VERSIONS = Object.fromEntries(PKGS.map((n) =>
  [n, JSON.parse(readFileSync(join(here, 'node_modules', n, 'package.json'), 'utf8')).version]))

// ------------------------------------------------------------------------------------------------
// Determinism: a fixed clock and a seeded random stream.
const NOW = Date.parse('2026-01-01T00:00:00.000Z')
const RealDate = Date
globalThis.Date = class extends RealDate {
  constructor(...args) { super(...(args.length ? args : [NOW])) }
  static now() { return NOW }
}

const sha256 = (label) => new Uint8Array(createHash('sha256').update(label).digest())
let randomCounter = 0
globalThis.crypto.getRandomValues = (array) => {
  const bytes = new Uint8Array(array.buffer, array.byteOffset, array.byteLength)
  for (let i = 0; i < bytes.length; i += 32) {
    bytes.set(sha256(`ceramic-rs sdk random ${randomCounter++}`).subarray(0, bytes.length - i), i)
  }
  return array
}

const hex = (b) => Buffer.from(b).toString('hex')

// ------------------------------------------------------------------------------------------------
// Signers

const ALICE_SEED = sha256('ceramic-rs sdk alice')
const BOB_SEED = sha256('ceramic-rs sdk bob')
const alice = await getAuthenticatedDID(ALICE_SEED)
const bob = await getAuthenticatedDID(BOB_SEED)

const ETH_KEY = sha256('ceramic-rs sdk ethereum wallet')
const ETH_ADDRESS = `0x${bytesToHex(keccak_256(secp256k1.getPublicKey(ETH_KEY, false).subarray(1)).subarray(-20))}`
const ethProvider = {
  async request({ method, params }) {
    if (method === 'eth_chainId') return '0x1'
    if (method !== 'personal_sign') throw new Error(`unexpected ${method}`)
    const message = hexToBytes(params[0].replace(/^0x/, ''))
    const digest = keccak_256(concatBytes(utf8ToBytes(`\x19Ethereum Signed Message:\n${message.length}`), message))
    const sig = secp256k1.sign(digest, ETH_KEY)
    return `0x${bytesToHex(sig.toCompactRawBytes())}${(27 + sig.recovery).toString(16)}`
  },
}
const SESSION_SEED = sha256('ceramic-rs sdk session key')
const sessionKey = await createDIDKey(SESSION_SEED)
const authMethod = await EthereumNodeAuth.getAuthMethod(
  ethProvider, new AccountId({ address: ETH_ADDRESS, chainId: 'eip155:1' }), 'app.example.org')
const cacao = await authMethod({
  uri: sessionKey.id,
  resources: ['ceramic://*'],
  nonce: 'sdkN0nce1',
  expirationTime: '2100-01-01T00:00:00.000Z',
})
const session = await DIDSession.initDID(sessionKey, cacao)

// ------------------------------------------------------------------------------------------------
// Cases

const cases = []

/** Records one event: its CAR (the SDK's `carToString`, base64 multibase), CID and facts. */
function record(name, event, codec, facts) {
  const car = eventToCAR(codec, event)
  const root = car.roots[0]
  cases.push({
    name,
    car: carToString(car),
    cid: root.toString(),
    ...facts(root, car),
  })
  return root
}

const modelDefinition = {
  version: '2.0',
  name: 'Note',
  description: 'ceramic-rs golden vector',
  accountRelation: { type: 'list' },
  interface: false,
  implements: [],
  schema: {
    type: 'object',
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    properties: { text: { type: 'string', maxLength: 200 }, tag: { type: 'string', maxLength: 20 } },
    required: ['text'],
    additionalProperties: false,
  },
  relations: {},
  views: {},
}

// A Model init event, signed by Alice's did:key.
const modelEvent = await createModelInitEvent(alice, modelDefinition)
const modelCid = record('model_init', modelEvent, InitEventPayload, (root) => ({
  kind: 'init', signed: true, signer_seed: hex(ALICE_SEED), controller: alice.id,
  stream_id: getModelStreamID(root).toString(), model: MODEL.toString(),
}))
const model = getModelStreamID(modelCid)

// A list-relation MID init event with content (random `unique` from the seeded stream).
const content = { text: 'hello', tag: 'a' }
const listInit = await createInitEvent({ content, controller: alice, model })
const listCid = record('mid_list_init', listInit, InitEventPayload, (root) => ({
  kind: 'init', signed: true, signer_seed: hex(ALICE_SEED), controller: alice.id,
  stream_id: getStreamID(root).toString(), model: model.toString(),
}))

// Its data events: one with only a patch, one with a `shouldIndex` header.
const listStream = getStreamID(listCid)
const data1 = await createDataEvent({
  controller: alice,
  currentID: CommitID.fromStream(listStream, listCid),
  currentContent: content,
  newContent: { text: 'hello world', tag: 'a' },
})
const data1Cid = record('mid_list_data', data1, InitEventPayload, () => ({
  kind: 'data', signed: true, signer_seed: hex(ALICE_SEED), controller: alice.id,
  stream_id: listStream.toString(), init_cid: listCid.toString(), prev: listCid.toString(),
}))
const data2 = await createDataEvent({
  controller: alice,
  currentID: CommitID.fromStream(listStream, data1Cid),
  currentContent: { text: 'hello world', tag: 'a' },
  newContent: { text: 'hello world' },
  shouldIndex: false,
})
record('mid_list_data_should_index', data2, InitEventPayload, () => ({
  kind: 'data', signed: true, signer_seed: hex(ALICE_SEED), controller: alice.id,
  stream_id: listStream.toString(), init_cid: listCid.toString(), prev: data1Cid.toString(),
}))

// Deterministic (unsigned) init events: a `single` relation (no unique) and a `set` relation
// (the set fields' values joined with `|`, as ModelInstanceClient.createInstance does).
for (const [name, unique] of [
  ['mid_single_init', undefined],
  ['mid_set_init', new TextEncoder().encode(['hello', 'a'].join('|'))],
]) {
  const payload = getDeterministicInitEventPayload(model, bob, unique)
  record(name, payload, InitEventPayload, (root) => {
    const byHeader = getDeterministicStreamID(payload.header).toString()
    const byCid = getStreamID(root).toString()
    if (byHeader !== byCid) throw new Error(`${name}: ${byHeader} != ${byCid}`)
    return {
      kind: 'init', signed: false, controller: bob.id, stream_id: byCid, model: model.toString(),
      unique_hex: unique ? hex(unique) : null,
    }
  })
}

// A MID written through a CACAO session: the session key signs, the wallet's did:pkh controls.
const sessionInit = await createInitEvent({ content: { text: 'from a wallet' }, controller: session, model })
const sessionCid = record('mid_cacao_init', sessionInit, InitEventPayload, (root) => ({
  kind: 'init', signed: true, session_seed: hex(SESSION_SEED), controller: session.parent,
  signer: session.id, stream_id: getStreamID(root).toString(), model: model.toString(),
}))
const sessionStream = getStreamID(sessionCid)
const sessionData = await createDataEvent({
  controller: session,
  currentID: CommitID.fromStream(sessionStream, sessionCid),
  currentContent: { text: 'from a wallet' },
  newContent: { text: 'from a wallet, again' },
})
record('mid_cacao_data', sessionData, InitEventPayload, () => ({
  kind: 'data', signed: true, session_seed: hex(SESSION_SEED), controller: session.parent,
  signer: session.id, stream_id: sessionStream.toString(), init_cid: sessionCid.toString(),
  prev: sessionCid.toString(),
}))

// A time event anchoring the list stream's first data event in a two-leaf tree.
const carFactory = new CARFactory()
const sibling = CID.createV1(dagCbor.code, createDigest(0x12, sha256('ceramic-rs sdk sibling')))
const txHash = CID.createV1(0x93, createDigest(0x1b, keccak_256(utf8ToBytes('ceramic-rs sdk tx'))))
{
  const car = carFactory.build()
  const rootNode = dagCbor.encode([data1Cid, sibling])
  const rootCid = CID.createV1(dagCbor.code, createDigest(0x12, sha256Bytes(rootNode)))
  const proof = { chainId: 'eip155:11155111', root: rootCid, txHash, txType: 'f(bytes32)' }
  const proofCid = CID.createV1(dagCbor.code, createDigest(0x12, sha256Bytes(dagCbor.encode(proof))))
  const timeEvent = { id: listCid, prev: data1Cid, proof: proofCid, path: '0' }
  const root = car.put(TimeEvent.encode(timeEvent), { isRoot: true })
  const putProof = car.put(proof)
  const putNode = car.put([data1Cid, sibling])
  if (!putProof.equals(proofCid) || !putNode.equals(rootCid)) throw new Error('time event CIDs')
  cases.push({
    name: 'mid_list_time',
    car: carToString(car),
    cid: root.toString(),
    kind: 'time', signed: false, stream_id: listStream.toString(), init_cid: listCid.toString(),
    prev: data1Cid.toString(), proof_cid: proofCid.toString(), root_cid: rootCid.toString(),
  })
}

function sha256Bytes(bytes) {
  return new Uint8Array(createHash('sha256').update(bytes).digest())
}

// ------------------------------------------------------------------------------------------------

const out = process.argv[2]
if (!out) throw new Error('usage: node gen.mjs <out_dir>')
const dir = join(out, 'crates', 'event', 'testdata')
mkdirSync(dir, { recursive: true })
const file = {
  source: 'xtask/js-ceramic-sdk/gen.mjs (the real @ceramic-sdk packages from npm; versions below). ' +
    'CAR text is @ceramic-sdk/events carToString (multibase base64).',
  versions: VERSIONS,
  cases,
}
writeFileSync(join(dir, 'js-ceramic-sdk.json'), `${JSON.stringify(file, null, 2)}\n`)
