#!/usr/bin/env node
// Drives a ceramic-rs node's `/ceramic` API through the real @ceramic-sdk 0.12.0 packages,
// unmodified (bins/node/tests/ceramic_sdk.rs runs it against the `ceramic-node` binary).
//
//   node e2e.mjs write <url>
//       Creates a `list` Model (Note) and a `single` Model (Profile, with a document relation to
//       Note); Notes with a did:key and with a CACAO session (did:pkh of a local secp256k1 wallet
//       key); the Profile singletons of both; updates them; reads every document back through the
//       stream client and the Models' definitions through GET /events; sends bad input (content
//       that breaks the schema, a second instance of a `single` relation, a relation to a stream
//       of the wrong model, a MID of a Model that does not exist) which must be refused without
//       moving the feed; then reads the feed from the start in pages of 4 and stops about half way.
//   node e2e.mjs resume <url> <resumeToken> <noteStreamId> <sessionNoteStreamId>
//       After the node restarted: updates both Notes again (their states come back from the
//       node), then reads the rest of the feed from the saved token until it is empty.
//
// Prints one JSON summary on stdout: `written` (every event CID posted, in order), `feed` (the
// event ids read from the feed), `resumeToken`, `failures` (checks that went wrong; empty when
// all passed) and what the Rust test checks further.

import { CeramicClient } from '@ceramic-sdk/http-client'
import { ModelClient } from '@ceramic-sdk/model-client'
import { ModelInstanceClient } from '@ceramic-sdk/model-instance-client'
import { StreamClient } from '@ceramic-sdk/stream-client'
import { StreamID } from '@ceramic-sdk/identifiers'
import { decodeMultibaseToJSON } from '@ceramic-sdk/events'
import { getAuthenticatedDID } from '@didtools/key-did'
import { EthereumNodeAuth } from '@didtools/pkh-ethereum'
import { secp256k1 } from '@noble/curves/secp256k1'
import { keccak_256 } from '@noble/hashes/sha3'
import { bytesToHex, concatBytes, hexToBytes, utf8ToBytes } from '@noble/hashes/utils'
import { AccountId } from 'caip'
import { DIDSession, createDIDKey } from 'did-session'
import { createHash } from 'node:crypto'
import { isDeepStrictEqual } from 'node:util'

const [phase, url, ...rest] = process.argv.slice(2)
if (!['write', 'resume'].includes(phase) || !url) {
  console.error('usage: node e2e.mjs write <url> | resume <url> <token> <note> <sessionNote>')
  process.exit(2)
}

const sha256 = (label) => new Uint8Array(createHash('sha256').update(label).digest())
const failures = []
const check = (ok, what) => { if (!ok) failures.push(what) }
// Key order aside (dag-cbor sorts map keys).
const same = (a, b) => isDeepStrictEqual(a, b)

// ------------------------------------------------------------------------------------------------
// Signers: a did:key from a fixed seed, and a did:pkh session over a CACAO signed by a local
// secp256k1 wallet key (EIP-191 personal_sign, as MetaMask would).

const alice = await getAuthenticatedDID(sha256('ceramic-rs sdk e2e alice'))
const ETH_KEY = sha256('ceramic-rs sdk e2e ethereum wallet')
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
const sessionKey = await createDIDKey(sha256('ceramic-rs sdk e2e session key'))
const authMethod = await EthereumNodeAuth.getAuthMethod(
  ethProvider, new AccountId({ address: ETH_ADDRESS, chainId: 'eip155:1' }), 'app.example.org')
const cacao = await authMethod({
  uri: sessionKey.id,
  resources: ['ceramic://*'],
  expirationTime: new Date(Date.now() + 24 * 3600 * 1000).toISOString(),
})
const session = (await DIDSession.initDID(sessionKey, cacao))
const sessionDid = `did:pkh:eip155:1:${ETH_ADDRESS}`

// ------------------------------------------------------------------------------------------------
// Clients

const ceramic = new CeramicClient({ url })
const models = new ModelClient({ ceramic, did: alice })
const documents = new ModelInstanceClient({ ceramic, did: alice })
const streams = new StreamClient({ ceramic })
const written = []

async function head() {
  const { data, error } = await ceramic.api.GET('/feed/resumeToken')
  if (error != null) throw new Error(`resumeToken: ${error.message}`)
  return data.resumeToken
}

/**
 * Reads the feed from `token` in pages of `limit`, at most `pages` pages (all when null).
 *
 * Through the SDK's own typed client (`CeramicClient.api`, openapi-fetch over the SDK's
 * generated ceramic.yaml types): `CeramicClient.getEventsFeed(params)` of 0.12.0 passes
 * `{query: params}` where openapi-fetch reads `{params: {query}}`, so it sends no `resumeAt` nor
 * `limit` to any server (see `sdkFeedSendsNoParams` in the summary).
 */
async function readFeed(token, limit, pages) {
  const ids = []
  for (let n = 0; pages == null || n < pages; n++) {
    const { data: page, error } = await ceramic.api.GET('/feed/events', {
      params: { query: { resumeAt: token, limit } },
    })
    if (error != null) throw new Error(`feed: ${error.message}`)
    if (page.events.length === 0) {
      check(page.resumeToken === token, `an empty page keeps the token ${token}: ${page.resumeToken}`)
      break
    }
    ids.push(...page.events.map((e) => e.id))
    token = page.resumeToken
  }
  return { ids, token }
}

/** Expects `action` to be refused; the message, and whether the feed stayed where it was. */
async function refused(name, action) {
  const before = await head()
  try {
    await action()
    failures.push(`${name}: accepted`)
    return { name, message: null }
  } catch (error) {
    const after = await head()
    check(after === before, `${name}: the feed moved from ${before} to ${after}`)
    return { name, message: String(error.message ?? error) }
  }
}

async function readBack(id, content, controller, model) {
  const state = await documents.getDocumentState(id)
  check(same(state.content, content), `${id}: content ${JSON.stringify(state.content)}`)
  check(state.metadata.controller === controller, `${id}: controller ${state.metadata.controller}`)
  check(state.metadata.model.toString() === model.toString(), `${id}: model ${state.metadata.model}`)
  // The stream client's raw state: the tip is the last event written to the stream.
  const raw = await streams.getStreamState(id)
  check(raw.id === id.toString(), `${id}: state id ${raw.id}`)
  check(same(decodeMultibaseToJSON(raw.data).content, content), `${id}: raw content`)
  return state
}

// ------------------------------------------------------------------------------------------------

if (phase === 'write') {
  const start = await head()
  check(start === '0', `a fresh node's feed starts at 0, not ${start}`)
  const version = await ceramic.getVersion()
  check(typeof version.version === 'string', `version ${JSON.stringify(version)}`)

  const noteDefinition = {
    version: '2.0',
    name: 'Note',
    description: 'ceramic-rs SDK end-to-end test',
    accountRelation: { type: 'list' },
    interface: false,
    implements: [],
    schema: {
      type: 'object',
      $schema: 'https://json-schema.org/draft/2020-12/schema',
      properties: { text: { type: 'string', maxLength: 100 }, n: { type: 'integer' } },
      required: ['text'],
      additionalProperties: false,
    },
    relations: {},
    views: {},
  }
  const noteModel = await models.createDefinition(noteDefinition)
  written.push(noteModel.cid.toString())
  const profileDefinition = {
    version: '2.0',
    name: 'Profile',
    accountRelation: { type: 'single' },
    interface: false,
    implements: [],
    schema: {
      type: 'object',
      $schema: 'https://json-schema.org/draft/2020-12/schema',
      properties: { name: { type: 'string', maxLength: 50 }, pinned: { type: 'string' } },
      required: ['name'],
      additionalProperties: false,
    },
    relations: { pinned: { type: 'document', model: noteModel.toString() } },
    views: {},
  }
  const profileModel = await models.createDefinition(profileDefinition)
  written.push(profileModel.cid.toString())
  // The definitions come back through GET /events/{id} (signature verified by the SDK).
  check(same(await models.getModelDefinition(noteModel), noteDefinition), 'Note definition')
  check(same(await models.getModelDefinition(profileModel), profileDefinition), 'Profile definition')
  await ceramic.registerInterestModel(noteModel.toString())

  // Notes (list): one by the did:key, one through the CACAO session; each updated.
  const note = await documents.createInstance({
    model: noteModel, modelDefinition: noteDefinition, content: { text: 'first' }, controller: alice,
  })
  written.push(note.commit.toString())
  const sessionNote = await documents.createInstance({
    model: noteModel, modelDefinition: noteDefinition, content: { text: 'by session' }, controller: session,
  })
  written.push(sessionNote.commit.toString())
  let state = await documents.updateDocument({ streamID: note.baseID.toString(), newContent: { text: 'second', n: 2 }, controller: alice })
  written.push(state.commitID.commit.toString())
  state = await documents.updateDocument({ streamID: sessionNote.baseID.toString(), newContent: { text: 'by session', n: 1 }, controller: session })
  written.push(state.commitID.commit.toString())
  await readBack(note.baseID, { text: 'second', n: 2 }, alice.id, noteModel)
  await readBack(sessionNote.baseID, { text: 'by session', n: 1 }, sessionDid, noteModel)

  // Profiles (single): the deterministic (unsigned) init event, then the content.
  const profile = await documents.createInstance({ model: profileModel, modelDefinition: profileDefinition, controller: alice })
  written.push(profile.commit.toString())
  const sessionProfile = await documents.createInstance({ model: profileModel, modelDefinition: profileDefinition, controller: session })
  written.push(sessionProfile.commit.toString())
  // The same singleton again is the same stream (nothing new in the feed).
  const again = await documents.createSingleton({ model: profileModel, controller: alice })
  check(again.baseID.equals(profile.baseID), 'a singleton is deterministic')
  state = await documents.updateDocument({ streamID: profile.baseID.toString(), newContent: { name: 'Alice', pinned: note.baseID.toString() }, controller: alice })
  written.push(state.commitID.commit.toString())
  state = await documents.updateDocument({ streamID: sessionProfile.baseID.toString(), newContent: { name: 'Wallet' }, controller: session })
  written.push(state.commitID.commit.toString())
  await readBack(profile.baseID, { name: 'Alice', pinned: note.baseID.toString() }, alice.id, profileModel)
  await readBack(sessionProfile.baseID, { name: 'Wallet' }, sessionDid, profileModel)
  check(await models.getDocumentModel(note.baseID) === noteModel.toString(), 'getDocumentModel')

  // Bad input through the SDK: refused, the feed does not move.
  const bad = [
    await refused('schema: missing required text', () => documents.createInstance({
      model: noteModel, modelDefinition: noteDefinition, content: { n: 1 }, controller: alice })),
    await refused('schema: text too long', () => documents.updateDocument({
      streamID: note.baseID.toString(), newContent: { text: 'x'.repeat(101) }, controller: alice })),
    await refused('second instance of a single relation', () => documents.createInstance({
      model: profileModel, content: { name: 'Alice again' }, controller: alice })),
    await refused('relation to a stream of the wrong model', () => documents.updateDocument({
      streamID: profile.baseID.toString(), newContent: { name: 'Alice', pinned: sessionProfile.baseID.toString() }, controller: alice })),
    await refused('model that does not exist', () => documents.createInstance({
      model: StreamID.fromString('kjzl6hvfrbw6c5ajfmes842lu09vjxu5956e3xq0xk12gp2jcf9s90cagt2god9'),
      content: { text: 'nowhere' }, controller: alice })),
    await refused('update by another DID', () => documents.updateDocument({
      streamID: note.baseID.toString(), newContent: { text: 'hijack' }, controller: session })),
  ]

  const end = await head()
  check(end === String(written.length), `the feed head ${end} after ${written.length} events`)
  // A consumer reads about half of the feed and keeps its token.
  const half = await readFeed(start, 4, Math.ceil(written.length / 8))
  // What the SDK's own feed method sends: no parameters (the first page of 100, whatever asked).
  const sdkPage = await ceramic.getEventsFeed({ resumeAt: half.token, limit: 1 })
  const sdkFeedSendsNoParams = sdkPage.events.length === written.length && sdkPage.events[0].id === written[0]
  console.log(JSON.stringify({
    failures,
    written,
    feed: half.ids,
    resumeToken: half.token,
    note: note.baseID.toString(),
    sessionNote: sessionNote.baseID.toString(),
    profile: profile.baseID.toString(),
    noteModel: noteModel.toString(),
    profileModel: profileModel.toString(),
    alice: alice.id,
    session: sessionDid,
    refused: bad,
    sdkFeedSendsNoParams,
  }))
} else {
  const [token, note, sessionNote] = rest
  // The documents' states survived the restart; update each once more.
  const noteState = await documents.getDocumentState(note)
  check(same(noteState.content, { text: 'second', n: 2 }), `after restart: ${JSON.stringify(noteState.content)}`)
  let state = await documents.updateDocument({ streamID: note, newContent: { text: 'third', n: 3 }, controller: alice })
  written.push(state.commitID.commit.toString())
  state = await documents.updateDocument({ streamID: sessionNote, newContent: { text: 'after restart' }, controller: session })
  written.push(state.commitID.commit.toString())
  const noteModel = noteState.metadata.model
  await readBack(StreamID.fromString(note), { text: 'third', n: 3 }, alice.id, noteModel)
  await readBack(StreamID.fromString(sessionNote), { text: 'after restart' }, sessionDid, noteModel)
  const restOfFeed = await readFeed(token, 3, null)
  console.log(JSON.stringify({ failures, written, feed: restOfFeed.ids, resumeToken: restOfFeed.token }))
}
