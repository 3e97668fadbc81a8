// Tile state-transition vectors: the real TileDocumentHandler (@ceramicnetwork/stream-tile-handler) applied to
// logs of real commits, with the commit data built by js-ceramic core's own code.
//
// Called from gen-vectors.mjs (which passes its helpers in, so this file has no import cycle with it):
//   crates/doctype-tile/testdata/js-tile-handler.json
//
// How one log is run (all of it js-ceramic code except the block store and the chain check):
//   * blocks live in an in-memory store; a fake dispatcher ({retrieveCommit, retrieveFromIPFS}) decodes them with
//     dag-jose / dag-cbor like the IPFS node would;
//   * commit data: core `Utils.getCommitData(dispatcher, cid, streamId)` (lib/utils.js), which loads the envelope and
//     its payload, or the anchor commit and its proof, and sets the type;
//   * timestamps: core `AnchorTimestampExtractor.verifyAnchorAndApplyTimestamps` (lib/stream-loading/
//     anchor-timestamp-extractor.js) with a fake anchor validator whose `validateChainInclusion(proof)` returns a fixed
//     block time per proof (by txHash). "full-load" runs it over the whole log at once (what StreamLoader does when it
//     loads a stream: DATA commits before an anchor get that anchor's timestamp); "live" runs it over each commit on its
//     own (what happens when new tips arrive one at a time: only TIME commits get a timestamp);
//   * linear logs are also re-synced with core `LogSyncer.syncFullLog(streamId, tip)` as a cross-check of the order;
//   * every commit goes through `new TileDocumentHandler().applyCommit(commitData, context, state)`; the state is
//     recorded with `StreamUtils.serializeState` after each commit. The first commit that throws ends the log.
//   * context = { signer: CeramicSigner.fromDID(new DID({resolver: key-did-resolver})), loadStream(commitId) } where
//     loadStream serves the schema streams registered for the case (their content computed by the same handler).

import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'

import * as dagCbor from '@ipld/dag-cbor'
import * as dagJose from 'dag-jose'
import { StreamID, CommitID } from '@ceramicnetwork/streamid'
import { CeramicSigner, EnvironmentUtils, StreamStateSubject, StreamUtils } from '@ceramicnetwork/common'
import { TileDocument } from '@ceramicnetwork/stream-tile'
import { TileDocumentHandler } from '@ceramicnetwork/stream-tile-handler'
import { DID } from 'dids'
import * as KeyDidResolver from 'key-did-resolver'

const here = dirname(fileURLToPath(import.meta.url))
const require = createRequire(import.meta.url)
// @ceramicnetwork/core only exports its index (which starts a whole node); load the two modules we need by path.
const coreLib = (rel) => import(pathToFileURL(join(here, 'node_modules/@ceramicnetwork/core/lib', rel)).href)
const { Utils: CoreUtils } = await coreLib('utils.js')
const { AnchorTimestampExtractor } = await coreLib('stream-loading/anchor-timestamp-extractor.js')
const { LogSyncer } = await coreLib('stream-loading/log-syncer.js')
const cloneDeep = require('lodash.clonedeep')

const ANCHOR_CHAIN = 'inmemory:12345'
const TS1 = 1700000000
const TS2 = 1700000600

export async function tileHandlerVectors(h) {
  const { tile, makeDid, withFixedRandom, labelBytes, hex, fromHex, cidOf, dagCborCid, source, errorMessage, PUBLIC_COMMITID } = h

  // The handler refuses to run in js-ceramic 6.x's default "v4" (ceramic-one) mode.
  EnvironmentUtils.setIpfsFlavor('go')

  // ---------------------------------------------------------------------------------------------
  // Block store + the fake IPFS side of core

  const store = new Map() // cid string -> { cid, bytes }
  const put = async (codec, bytes) => {
    const cid = await cidOf(codec.code, bytes)
    store.set(cid.toString(), { cid, bytes })
    return cid
  }
  let loaded = null // per case: cids in the order core loaded them
  const getBlock = (cid) => {
    const b = store.get(cid.toString())
    if (!b) throw new Error(`block store: no block ${cid}`)
    if (loaded && !loaded.includes(b.cid.toString())) loaded.push(b.cid.toString())
    if (b.cid.code === dagJose.code) return dagJose.decode(b.bytes)
    if (b.cid.code === dagCbor.code) return dagCbor.decode(b.bytes)
    throw new Error(`block store: unexpected codec in ${cid}`)
  }
  const dispatcher = {
    retrieveCommit: async (cid) => getBlock(cid),
    retrieveFromIPFS: async (cid, path) => {
      if (path) throw new Error(`block store: paths are not used by these vectors (${cid}${path})`)
      return getBlock(cid)
    },
  }
  const silentLogger = { warn() {}, err() {}, imp() {}, verbose() {}, debug() {} }
  const anchorTimes = new Map() // txHash cid string -> block timestamp
  const anchorValidator = {
    validateChainInclusion: async (proof) => {
      const t = anchorTimes.get(proof.txHash.toString())
      if (t === undefined) throw new Error(`fake chain: unknown transaction ${proof.txHash}`)
      return t
    },
  }
  const extractor = new AnchorTimestampExtractor(silentLogger, dispatcher, anchorValidator)
  const syncer = new LogSyncer(dispatcher)

  // ---------------------------------------------------------------------------------------------
  // Commit builders (real TileDocument / dids code; fixed seeds and fixed `unique`)

  const verifier = new DID({ resolver: KeyDidResolver.getResolver() })
  const dids = new Map()
  const didFor = async (seed) => {
    if (!dids.has(seed)) dids.set(seed, await makeDid(seed, 'ed25519'))
    return dids.get(seed)
  }
  const signerFor = async (seed) => CeramicSigner.fromDID(await didFor(seed))

  /** Store {jws, linkedBlock}; returns the envelope CID (the commit CID). */
  const storeSigned = async ({ jws, linkedBlock }) => {
    const payloadCid = await put(dagCbor, linkedBlock)
    if (!payloadCid.equals(jws.link)) throw new Error('linkedBlock does not match jws.link')
    await verifier.verifyJWS(jws)
    return put(dagJose, dagJose.encode(jws))
  }
  const storeCbor = (value) => put(dagCbor, dagCbor.encode(value))

  const genesis = async (seed, content, metadata, label) => {
    const signer = await signerFor(seed)
    const uniqueBytes = metadata.deterministic ? new Uint8Array() : labelBytes(`ceramic-rs tile-handler unique ${label}`, 12)
    const g = await withFixedRandom(uniqueBytes, () => TileDocument.makeGenesis(signer, content, structuredClone(metadata)))
    return g.jws ? storeSigned(g) : storeCbor(g)
  }
  /** A signed payload built by hand (for commits TileDocument refuses to make). */
  const signPayload = async (seed, payload) => storeSigned(await (await signerFor(seed)).createDagJWS(payload))

  /** A TileDocument over `state` (a handler state), for makeCommit. */
  const docAt = (state) => new TileDocument(new StreamStateSubject(cloneDeep(state)), undefined)
  const update = async (seed, state, content, metadata) => {
    const signer = await signerFor(seed)
    return storeSigned(await docAt(state).makeCommit(signer, content, metadata))
  }
  const rawUpdate = async (seed, state, fields) => {
    const log = state.log
    return signPayload(seed, { header: {}, data: [], prev: log[log.length - 1].cid, id: log[0].cid, ...fields })
  }
  let anchorCounter = 0
  const anchor = async (state, timestamp, { root = null, prev = null } = {}) => {
    const tip = prev ?? state.log[state.log.length - 1].cid
    const txHash = await dagCborCid(dagCbor.encode({ 'ceramic-rs fake anchor transaction': anchorCounter++ }))
    anchorTimes.set(txHash.toString(), timestamp)
    const proof = await storeCbor({ chainId: ANCHOR_CHAIN, root: root ?? tip, txHash, txType: 'f(bytes32)' })
    return storeCbor({ id: state.log[0].cid, prev: tip, proof, path: '' })
  }

  // ---------------------------------------------------------------------------------------------
  // Running a log through core + the handler

  /** Schema streams the fake context can load: CommitID string -> { content, record }. */
  let schemaStreams = new Map()
  const context = () => ({
    signer: CeramicSigner.fromDID(verifier),
    loadStream: async (commitId) => {
      const s = schemaStreams.get(commitId.toString())
      if (!s) throw new Error(`harness: no stream ${commitId} registered`)
      return { content: s.content }
    },
  })

  /** Commit data for `cids` as core builds it ("full-load" or "live" timestamps). */
  const commitDataFor = async (cids, mode) => {
    const streamId = new StreamID(TileDocument.STREAM_TYPE_ID, cids[0])
    const commits = []
    for (const cid of cids) commits.push(await CoreUtils.getCommitData(dispatcher, cid, streamId))
    if (mode === 'full-load') {
      await extractor.verifyAnchorAndApplyTimestamps(streamId, { commits })
    } else if (mode === 'live') {
      for (const c of commits) await extractor.verifyAnchorAndApplyTimestamps(streamId, { commits: [c] })
    } else throw new Error(`unknown mode ${mode}`)
    return commits
  }

  const plain = (v) => {
    const s = JSON.stringify(v)
    const back = JSON.parse(s)
    if (JSON.stringify(back) !== s) throw new Error('state is not plain JSON')
    return back
  }
  const serialize = (state) => plain(StreamUtils.serializeState(state))

  /** Apply `cids` in order; returns { commits, states, error }. */
  const runLog = async (cids, mode) => {
    const data = await commitDataFor(cids, mode)
    const handler = new TileDocumentHandler()
    const ctx = context()
    const states = []
    let state = null
    let error = null
    for (let i = 0; i < data.length; i++) {
      const before = state === null ? null : JSON.stringify(serialize(state))
      try {
        state = await handler.applyCommit(data[i], ctx, state)
        states.push(serialize(state))
      } catch (e) {
        error = { at: i, message: errorMessage(e) }
        // The handler mutates the state object before some checks (e.g. the schema check of an update runs after
        // the log entry was pushed). core's _applyLog keeps that object when throwOnInvalidCommit is false.
        if (state !== null && JSON.stringify(serialize(state)) !== before) error.js_state_after_throw = serialize(state)
        break
      }
    }
    const commits = data.map((c) => ({ cid: c.cid.toString(), type: c.type, timestamp: c.timestamp ?? null }))
    return { commits, states, error }
  }
  /** The handler state after applying `cids` (for building the next commit); throws if any commit fails. */
  const stateOf = async (cids) => {
    const data = await commitDataFor(cids, 'live')
    const handler = new TileDocumentHandler()
    let state = null
    for (const d of data) state = await handler.applyCommit(d, context(), state)
    return state
  }

  // ---------------------------------------------------------------------------------------------
  // Cases

  const cases = []
  const notes = []
  /**
   * Record one case. `expectAccept`: true (the whole log must apply), false (some commit must be rejected) or
   * null (record whatever JS does; a surprise is noted).
   */
  const addCase = async (name, rule, cids, { mode = 'full-load', expectAccept = true, linear = false, schema = null } = {}) => {
    loaded = []
    // schema stream blocks first (as a node would have them), then the log
    for (const c of schema?.blocks ?? []) loaded.push(c.toString())
    const { commits, states, error } = await runLog(cids, mode)
    if (linear) {
      const synced = await syncer.syncFullLog(new StreamID(0, cids[0]), cids[cids.length - 1])
      if (synced.commits.map((c) => c.cid.toString()).join() !== cids.map(String).join()) {
        throw new Error(`${name}: LogSyncer order differs`)
      }
    }
    const blocks = loaded.map((c) => ({ cid: c, hex: hex(store.get(c).bytes) }))
    loaded = null
    const accepted = error === null
    if (expectAccept === true && !accepted) throw new Error(`${name}: expected acceptance, JS threw at ${error.at}: ${error.message}`)
    if (expectAccept === false && accepted) throw new Error(`${name}: expected a rejection, JS accepted`)
    if (expectAccept === null) {
      notes.push(accepted ? `${name}: the JS handler ACCEPTS this (${rule}).` : `${name}: rejected: ${error.message}`)
    }
    const input = { rule, mode, blocks, commits }
    if (schema) input.schema_stream = schema.record
    cases.push({ name, input, expected: { accepted, states, error } })
  }

  /** Register a schema tile (its genesis) so that loadStream(CommitID) serves its content. */
  const registerSchemaTile = async (cid) => {
    const state = await stateOf([cid])
    const sid = new StreamID(TileDocument.STREAM_TYPE_ID, cid)
    const commitId = CommitID.make(sid, cid).toString()
    const content = state.next?.content ?? state.content
    schemaStreams.set(commitId, { content })
    const payload = dagJose.decode(store.get(cid.toString()).bytes).link
    return { blocks: [cid, payload], record: { commit_id: commitId, stream_id: sid.toString(), commits: [cid.toString()], content, served_by: 'stream' } }
  }

  // --- 1. positive logs: every js-tile.json case, same blocks --------------------------------------
  for (const tc of tile.cases) {
    const e = tc.expected
    await put(dagCbor, fromHex(e.genesis.payload_hex))
    const cids = [await put(dagJose, fromHex(e.genesis.envelope_hex))]
    if (cids[0].toString() !== e.genesis.envelope_cid) throw new Error('js-tile genesis CID mismatch')
    for (const u of e.updates) {
      await put(dagCbor, fromHex(u.payload_hex))
      const c = await put(dagJose, fromHex(u.envelope_hex))
      if (c.toString() !== u.envelope_cid) throw new Error('js-tile update CID mismatch')
      cids.push(c)
    }
    let schema = null
    if (tc.input.metadata.schema) {
      // js-tile.json points at a CommitID that is not a real stream; the harness serves a schema for it.
      if (tc.input.metadata.schema !== PUBLIC_COMMITID) throw new Error('unexpected schema in js-tile.json')
      const content = { type: 'object', properties: { name: { type: 'string' }, v: { type: 'integer' } }, required: ['name'] }
      schemaStreams = new Map([[PUBLIC_COMMITID, { content }]])
      schema = { record: { commit_id: PUBLIC_COMMITID, content, served_by: 'harness (no such stream exists; loadStream returns this content for the CommitID)' } }
    }
    await addCase(`js-tile-${tc.name}`, 'genesis + signed updates from js-tile.json (Tile §3.3: signed genesis, JSON-patch updates go to next)', cids, { linear: true, schema })
    schemaStreams = new Map()
  }

  // --- anchored logs --------------------------------------------------------------------------------
  const SEED_A = '5555555555555555555555555555555555555555555555555555555555555555'
  const SEED_B = '6666666666666666666666666666666666666666666666666666666666666666'
  const SEED_C = '7777777777777777777777777777777777777777777777777777777777777777'
  const didA = (await didFor(SEED_A)).id
  const didB = (await didFor(SEED_B)).id
  {
    const g = await genesis(SEED_A, { step: 0, items: [] }, { family: 'anchored' }, 'anchored')
    const u1 = await update(SEED_A, await stateOf([g]), { step: 1, items: ['a'] })
    const a1 = await anchor(await stateOf([g, u1]), TS1)
    const u2 = await update(SEED_A, await stateOf([g, u1, a1]), { step: 2, items: ['a', 'b'] })
    const a2 = await anchor(await stateOf([g, u1, a1, u2]), TS2)
    const log = [g, u1, a1, u2, a2]
    await addCase('anchored-log-full-load', 'anchor application (§3.2): anchorStatus ANCHORED, anchorProof, next folded into content/metadata, timestamps copied back; commit data timestamps as StreamLoader sets them', log, { linear: true })
    await addCase('anchored-log-live', 'anchor application (§3.2) with commits arriving one by one: only TIME commits carry a timestamp until the anchor copies it back', log, { mode: 'live', linear: true })
    // anchor directly on the genesis, then an update on top of the anchor
    const a0 = await anchor(await stateOf([g]), TS1)
    const u3 = await update(SEED_A, await stateOf([g, a0]), { step: 9, items: ['z'] })
    await addCase('anchor-on-genesis-then-update', 'anchor of an unmodified genesis (no next: content unchanged), then an update goes to next again with anchorStatus NOT_REQUESTED', [g, a0, u3], { linear: true })

    // negative anchors
    const badRoot = await anchor(await stateOf([g, u1]), TS1, { root: g })
    await addCase('reject-anchor-proof-root-not-prev', 'anchor verification: proof.root (empty path) must equal the anchor commit prev; the extractor stores the error and the handler throws it', [g, u1, badRoot], { expectAccept: false })
    const staleAnchor = await anchor(await stateOf([g, u1]), TS1, { prev: g, root: g })
    await addCase('reject-anchor-prev-not-tip', 'assertCommitLinksToState: an anchor commit prev must be the current tip', [g, u1, staleAnchor], { expectAccept: false })
  }

  // --- 2. schema -------------------------------------------------------------------------------------
  {
    const schemaContent = {
      $schema: 'http://json-schema.org/draft-07/schema#',
      title: 'Person',
      type: 'object',
      properties: { name: { type: 'string' }, age: { type: 'integer', minimum: 0 } },
      required: ['name', 'age'],
      additionalProperties: false,
    }
    const sg = await genesis(SEED_C, schemaContent, { family: 'schema' }, 'schema-tile')
    const schema = await registerSchemaTile(sg)
    await addCase('schema-tile-itself', 'a Tile whose content is a JSON schema (the schema stream used below)', [sg], { linear: true })
    const meta = { schema: schema.record.commit_id }
    const g = await genesis(SEED_A, { name: 'Alice', age: 30 }, meta, 'schema-doc')
    const ok = await update(SEED_A, await stateOf([g]), { name: 'Alice', age: 31 })
    await addCase('schema-valid-genesis-and-update', 'schema (§3.3): genesis and update content validated with Ajv against the schema tile at the CommitID', [g, ok], { linear: true, schema })
    const badUpdates = [
      ['schema-reject-update-missing-required', { name: 'Alice' }],
      ['schema-reject-update-wrong-type', { name: 'Alice', age: 'thirty' }],
      ['schema-reject-update-negative-age', { name: 'Alice', age: -1 }],
      ['schema-reject-update-additional-property', { name: 'Alice', age: 31, extra: true }],
      ['schema-reject-update-several-errors', { name: 7, age: 1.5, extra: true }],
    ]
    for (const [name, content] of badUpdates) {
      const bad = await update(SEED_A, await stateOf([g, ok]), content)
      await addCase(name, 'schema (§3.3): an update whose patched content breaks the schema is rejected (Ajv errorsText, allErrors)', [g, ok, bad], { expectAccept: false, schema })
    }
    const gBad = await genesis(SEED_A, { name: 'Bob' }, meta, 'schema-doc-bad')
    await addCase('schema-reject-genesis', 'schema (§3.3): a genesis whose content breaks the schema is rejected', [gBad], { expectAccept: false, schema })
    const notCommitId = await rawUpdate(SEED_A, await stateOf([g]), {
      header: { schema: new StreamID(0, sg).toString() },
      data: [{ op: 'replace', path: '/age', value: 32 }],
    })
    await addCase('schema-reject-update-schema-streamid-not-commitid', 'schema must be a CommitID: an update header setting schema to a StreamID fails when the handler loads it', [g, notCommitId], { expectAccept: false, schema })
    const dropSchema = await rawUpdate(SEED_A, await stateOf([g]), { header: { schema: null }, data: [{ op: 'add', path: '/nickname', value: 'Al' }] })
    await addCase('schema-update-header-schema-null', 'update header schema: null is merged into next.metadata and switches validation off (the handler checks only a truthy schema)', [g, dropSchema], { expectAccept: null, schema })
  }

  // --- 3. negative commits -------------------------------------------------------------------------
  {
    const g = await genesis(SEED_A, { a: 1, list: [1, 2] }, {}, 'neg-base')
    const st = await stateOf([g])
    const u1 = await update(SEED_A, st, { a: 2, list: [1, 2] })
    const st1 = await stateOf([g, u1])

    const unsignedWithData = await storeCbor({ header: { controllers: [didA] }, data: { a: 1 } })
    await addCase('reject-unsigned-genesis-with-data', 'genesis: an unsigned genesis with data is rejected', [unsignedWithData], { expectAccept: false })

    const unsignedDeterministic = await genesis(SEED_A, null, { deterministic: true, family: 'neg-deterministic' }, 'neg-deterministic')
    const detState = await stateOf([unsignedDeterministic])
    const detUpdate = await update(SEED_A, detState, { filled: true })
    await addCase('unsigned-deterministic-genesis-then-update', 'genesis: an unsigned genesis without data gives content {} and signature GENESIS; a signed update by the controller is accepted', [unsignedDeterministic, detUpdate], { linear: true })

    const wrongSigner = await update(SEED_B, st, { a: 3, list: [1, 2] })
    await addCase('reject-update-signed-by-non-controller', 'signed commit: verified against the controller (issuer); a signature by another DID is rejected', [g, wrongSigner], { expectAccept: false })

    const other = await genesis(SEED_A, { other: true }, {}, 'neg-other-stream')
    const wrongId = await rawUpdate(SEED_A, st1, { id: other, data: [{ op: 'replace', path: '/a', value: 5 }] })
    await addCase('reject-update-id-of-another-stream', 'assertCommitLinksToState: commit.id must equal the genesis CID', [g, u1, wrongId], { expectAccept: false })

    const fork = await update(SEED_A, st, { a: 9, list: [] }) // prev = genesis, applied after u1
    await addCase('reject-update-prev-not-tip', 'assertCommitLinksToState: commit.prev must equal the current tip', [g, u1, fork], { expectAccept: false })

    const noHeader = await signPayload(SEED_A, { data: [{ op: 'replace', path: '/a', value: 3 }], prev: u1, id: g })
    await addCase('update-without-header', 'signed commit: an update with no header at all (JS reads payload.header.controllers)', [g, u1, noHeader], { expectAccept: null })

    const patches = [
      ['patch-replace-missing-path', [{ op: 'replace', path: '/missing', value: 1 }]],
      ['patch-remove-missing-path', [{ op: 'remove', path: '/missing' }]],
      ['patch-bogus-op', [{ op: 'bogus', path: '/a', value: 1 }]],
      ['patch-test-op-fails', [{ op: 'test', path: '/a', value: 99 }]],
      ['patch-test-op-passes', [{ op: 'test', path: '/a', value: 2 }, { op: 'replace', path: '/a', value: 3 }]],
      ['patch-add-under-missing-parent', [{ op: 'add', path: '/x/y', value: 1 }]],
      ['patch-add-array-index-out-of-bounds', [{ op: 'add', path: '/list/10', value: 3 }]],
      ['patch-add-array-dash-appends', [{ op: 'add', path: '/list/-', value: 3 }]],
      ['patch-move-and-copy', [{ op: 'copy', from: '/list', path: '/copy' }, { op: 'move', from: '/a', path: '/b' }]],
      ['patch-replace-root', [{ op: 'replace', path: '', value: { whole: 'new' } }]],
      ['patch-path-without-leading-slash', [{ op: 'add', path: 'a', value: 1 }]],
      ['patch-empty-array', []],
    ]
    for (const [name, data] of patches) {
      const c = await rawUpdate(SEED_A, st1, { data })
      await addCase(name, `JSON patch applied with fast-json-patch applyPatch(doc, patch) (no validation): ${JSON.stringify(data)}`, [g, u1, c], { expectAccept: null })
    }

    const setUnique = await rawUpdate(SEED_A, st1, { header: { unique: 'AAAAAAAAAAAAAAAA' }, data: [] })
    await addCase('update-header-sets-unique', 'update header unique: not checked by the handler; merged into next.metadata', [g, u1, setUnique], { expectAccept: null })

    const setForbid = await rawUpdate(SEED_A, st1, { header: { forbidControllerChange: true }, data: [] })
    await addCase('reject-update-header-sets-forbid-controller-change', "update header may not change forbidControllerChange (absent -> true)", [g, u1, setForbid], { expectAccept: false })

    const gf = await genesis(SEED_A, { locked: 1 }, { forbidControllerChange: true }, 'neg-forbid')
    const stf = await stateOf([gf])
    const unsetForbid = await rawUpdate(SEED_A, stf, { header: { forbidControllerChange: false }, data: [] })
    await addCase('reject-update-header-clears-forbid-controller-change', 'update header may not change forbidControllerChange (true -> false)', [gf, unsetForbid], { expectAccept: false })
    const sameForbid = await rawUpdate(SEED_A, stf, { header: { forbidControllerChange: true }, data: [{ op: 'replace', path: '/locked', value: 2 }] })
    await addCase('update-header-repeats-forbid-controller-change', 'update header repeating the same forbidControllerChange value is allowed', [gf, sameForbid], { expectAccept: true })
    const changeCtl = await rawUpdate(SEED_A, stf, { header: { controllers: [didB] }, data: [] })
    await addCase('reject-controller-change-when-forbidden', 'forbidControllerChange: true forbids a controller change', [gf, changeCtl], { expectAccept: false })
    const sameCtl = await rawUpdate(SEED_A, stf, { header: { controllers: [didA] }, data: [{ op: 'replace', path: '/locked', value: 3 }] })
    await addCase('update-same-controller-when-forbidden', 'forbidControllerChange: restating the same controller is not a change', [gf, sameCtl], { expectAccept: true })

    const twoCtlUpdate = await rawUpdate(SEED_A, st1, { header: { controllers: [didA, didB] }, data: [] })
    await addCase('reject-update-two-controllers', 'update header controllers must have exactly one entry', [g, u1, twoCtlUpdate], { expectAccept: false })
    const emptyCtlUpdate = await rawUpdate(SEED_A, st1, { header: { controllers: [''] }, data: [] })
    await addCase('reject-update-empty-controller', 'update header controllers[0] must be truthy', [g, u1, emptyCtlUpdate], { expectAccept: false })
    const noCtlUpdate = await rawUpdate(SEED_A, st1, { header: { controllers: [] }, data: [] })
    await addCase('reject-update-zero-controllers', 'update header controllers must have exactly one entry (empty list)', [g, u1, noCtlUpdate], { expectAccept: false })

    // controller change takes effect at once (next.metadata.controllers)
    const handover = await rawUpdate(SEED_A, st1, { header: { controllers: [didB] }, data: [{ op: 'add', path: '/owner', value: 'B' }] })
    const stH = await stateOf([g, u1, handover])
    const byNew = await update(SEED_B, stH, { a: 2, list: [1, 2], owner: 'B', signed: 'by B' })
    await addCase('controller-change-then-update-by-new-controller', 'a pending controller change (next.metadata) is used for the next signature check at once', [g, u1, handover, byNew], { linear: true })
    const byOld = await update(SEED_A, stH, { a: 2, list: [1, 2], owner: 'B', signed: 'by A' })
    await addCase('reject-update-by-old-controller-after-change', 'after a (pending) controller change the old controller can no longer sign', [g, u1, handover, byOld], { expectAccept: false })
    const aH = await anchor(stH, TS1)
    const stHA = await stateOf([g, u1, handover, aH])
    const byNewAfterAnchor = await update(SEED_B, stHA, { a: 2, list: [1, 2], owner: 'B', after: 'anchor' })
    await addCase('controller-change-anchored-then-update', 'controller change folded into metadata by the anchor; the new controller signs the next update', [g, u1, handover, aH, byNewAfterAnchor], { linear: true })

    // genesis controller rules
    const unique = 'Y2VyYW1pYy1ycy10ZXN0'
    const twoCtlSigned = await signPayload(SEED_A, { data: { a: 1 }, header: { controllers: [didA, didB], unique } })
    await addCase('reject-genesis-two-controllers-signed', 'genesis: exactly one controller (signed genesis, signature checked against controllers[0] first)', [twoCtlSigned], { expectAccept: false })
    const twoCtlUnsigned = await storeCbor({ header: { controllers: [didA, didB], unique } })
    await addCase('reject-genesis-two-controllers-unsigned', 'genesis: exactly one controller (unsigned genesis without data)', [twoCtlUnsigned], { expectAccept: false })
    const noCtlUnsigned = await storeCbor({ header: { unique } })
    await addCase('reject-genesis-no-controllers-unsigned', 'genesis: exactly one controller (header without controllers)', [noCtlUnsigned], { expectAccept: false })
    const notDidUnsigned = await storeCbor({ header: { controllers: ['key:z6Mk-not-a-did'], unique } })
    await addCase('reject-genesis-controller-not-did-unsigned', 'genesis: the controller must be a string starting with "did:"', [notDidUnsigned], { expectAccept: false })
    const numberCtl = await storeCbor({ header: { controllers: [42], unique } })
    await addCase('reject-genesis-controller-not-string-unsigned', 'genesis: the controller must be a string', [numberCtl], { expectAccept: false })
    const upperDid = await storeCbor({ header: { controllers: ['DID:key:z6Mk'], unique } })
    await addCase('reject-genesis-controller-uppercase-did-prefix', 'genesis: the "did:" prefix check is case-sensitive', [upperDid], { expectAccept: false })
    const anyDid = await storeCbor({ header: { controllers: ['did:'], unique } })
    await addCase('genesis-controller-bare-did-prefix-unsigned', 'genesis: only the "did:" prefix is checked, so "did:" alone passes (unsigned genesis)', [anyDid], { expectAccept: null })
    const notDidSigned = await signPayload(SEED_A, { data: { a: 1 }, header: { controllers: ['not-a-did'], unique } })
    await addCase('reject-genesis-controller-not-did-signed', 'genesis: signed genesis whose controller is not a DID (the signature check against controllers[0] runs first)', [notDidSigned], { expectAccept: false })
    const otherCtlSigned = await signPayload(SEED_A, { data: { a: 1 }, header: { controllers: [didB], unique } })
    await addCase('reject-genesis-signed-by-non-controller', 'genesis: a signed genesis is verified against controllers[0]', [otherCtlSigned], { expectAccept: false })
  }

  return {
    source: source(['@ceramicnetwork/stream-tile-handler', '@ceramicnetwork/stream-handler-common', '@ceramicnetwork/core',
      '@ceramicnetwork/common', '@ceramicnetwork/stream-tile', 'fast-json-patch', 'ajv', 'dids', 'key-did-resolver',
      'key-did-provider-ed25519'],
    'TileDocumentHandler#applyCommit on commit data from core Utils.getCommitData + AnchorTimestampExtractor; states from StreamUtils.serializeState'),
    notes: [
      'Each case applies input.commits in order with TileDocumentHandler#applyCommit(commitData, context, state) (state null for the first). expected.states[i] is StreamUtils.serializeState(state) after commit i; anchorStatus is the enum name; log entries carry timestamp only when set (absent = undefined in JS).',
      'Commit data is built by js-ceramic core Utils.getCommitData from input.blocks: a dag-jose envelope (commit CID) plus its dag-cbor payload, or a dag-cbor anchor commit plus its proof. commits[i].type is core\'s type (0 INIT, 1 DATA, 2 TIME) and commits[i].timestamp is commitData.timestamp as core\'s AnchorTimestampExtractor set it (null = unset).',
      'mode "full-load": timestamps extracted over the whole log at once (StreamLoader): DATA commits before an anchor get that anchor\'s block time, so their log entries carry it as soon as they are applied. mode "live": each commit extracted on its own (new tips arriving one by one): only TIME commits carry a timestamp and the anchor copies it back onto earlier entries.',
      `Anchor proofs: {chainId: "${ANCHOR_CHAIN}", root, txHash, txType: "f(bytes32)"} with path "" (so root must equal prev); the chain check is faked: the block time is ${TS1} or ${TS2} depending on txHash.`,
      'Signatures are checked by dids#verifyJWS with key-did-resolver (context.signer = CeramicSigner.fromDID).',
      'expected.error: {at: index of the rejected commit, message: the JS error message}; the log stops there. accepted: true when every commit applied.',
      'expected.error.js_state_after_throw (only when it differs from states[at-1]): the handler mutated the state object before throwing (an update rejected by the schema check is already pushed onto the log with signature/anchorStatus reset). js-ceramic core keeps that mutated object when it applies network tips with throwOnInvalidCommit=false; a port should not copy this.',
      'input.schema_stream: the schema tile loadStream(CommitID) serves (content = next?.content ?? content of that stream at the CommitID, computed by the same handler); served_by "harness" means no such stream exists and the test harness made up the content.',
      'Case names starting with "reject-" or "schema-reject-" are rejections the design expected; names without it whose outcome the design left open are listed below with what JS did.',
      ...notes,
    ],
    cases,
  }
}
