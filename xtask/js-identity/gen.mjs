#!/usr/bin/env node
// Golden CACAO-session vectors for ceramic-rs, made by the real JavaScript libraries.
//
//   node gen.mjs <out_dir>   writes <out_dir>/crates/did/testdata/js-cacao.json
//
// Wallets come from fixed private keys (an Ethereum key signing with @noble/curves behind an
// EIP-1193 `personal_sign` stub, a Solana Ed25519 seed behind a `signMessage` stub); CACAOs are
// made by the real auth methods (`EthereumNodeAuth` / `SolanaNodeAuth`), session DIDs by
// did-session's `createDIDKey(seed)` + `DIDSession.initDID(didKey, cacao)`, commits by
// `TileDocument.makeGenesis` / `TileDocument#makeCommit` through `dids`' `createDagJWS`.
// The clock is fixed (a Date subclass) and the session nonce is given, so every run writes the
// same bytes. Run through `cargo xtask vectors [--check]`.

import { mkdirSync, writeFileSync, readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { createRequire } from 'node:module'

import { CID } from 'multiformats/cid'
import { sha256 } from 'multiformats/hashes/sha2'
import { base58btc } from 'multiformats/bases/base58'
import { base64url } from 'multiformats/bases/base64'
import * as dagCbor from '@ipld/dag-cbor'
import * as dagJose from 'dag-jose'
import { CarWriter } from '@ipld/car'
import { StreamID } from '@ceramicnetwork/streamid'
import { CeramicSigner, StreamStateSubject, SignatureStatus, AnchorStatus, EventType } from '@ceramicnetwork/common'
import { TileDocument } from '@ceramicnetwork/stream-tile'
import { Cacao, CacaoBlock, SiweMessage, SiwsMessage } from '@didtools/cacao'
import { EthereumNodeAuth, getEIP191Verifier } from '@didtools/pkh-ethereum'
import { SolanaNodeAuth, getSolanaVerifier } from '@didtools/pkh-solana'
import { createDIDKey, DIDSession } from 'did-session'
import { DID } from 'dids'
import * as KeyDidResolver from 'key-did-resolver'
import { secp256k1 } from '@noble/curves/secp256k1'
import { ed25519 } from '@noble/curves/ed25519'
import { keccak_256 } from '@noble/hashes/sha3'
import { bytesToHex, hexToBytes, utf8ToBytes, concatBytes } from '@noble/hashes/utils'
import { AccountId } from 'caip'

const require = createRequire(import.meta.url)
const here = dirname(fileURLToPath(import.meta.url))
const PKGS = ['@didtools/cacao', '@didtools/pkh-ethereum', '@didtools/pkh-solana', 'did-session', 'dids',
  'key-did-provider-ed25519', 'key-did-resolver', '@ceramicnetwork/stream-tile', '@ceramicnetwork/common',
  'dag-jose', '@ipld/dag-cbor', '@ipld/car', '@noble/curves']
const VERSIONS = Object.fromEntries(PKGS.map((n) =>
  [n, JSON.parse(readFileSync(join(here, 'node_modules', n, 'package.json'), 'utf8')).version]))

// ------------------------------------------------------------------------------------------------
// A fixed clock: `new Date()` and `Date.now()` read NOW; explicit dates are untouched.
const NOW = Date.parse('2026-01-01T00:00:00.000Z')
const RealDate = Date
globalThis.Date = class extends RealDate {
  constructor(...args) { super(...(args.length ? args : [NOW])) }
  static now() { return NOW }
}

// Fixed randomness for TileDocument.makeGenesis's `header.unique` (12 bytes via crypto.randomBytes).
const nodeCrypto = require('crypto')
async function withFixedRandom(bytes, fn) {
  let offset = 0
  const orig = nodeCrypto.randomBytes
  nodeCrypto.randomBytes = (n) => {
    if (offset + n > bytes.length) throw new Error('fixed RNG exhausted')
    const out = bytes.slice(offset, offset + n)
    offset += n
    return Buffer.from(out)
  }
  try {
    const r = await fn()
    if (offset !== bytes.length) throw new Error(`fixed RNG: ${offset} of ${bytes.length} bytes used`)
    return r
  } finally {
    nodeCrypto.randomBytes = orig
  }
}

const hex = (b) => Buffer.from(b).toString('hex')
const seed = (label) => sha256Sync(label)
function sha256Sync(label) {
  return new Uint8Array(nodeCrypto.createHash('sha256').update(label).digest())
}

// ------------------------------------------------------------------------------------------------
// Wallets

const ETH_KEY = seed('ceramic-rs cacao ethereum wallet')
const ethUncompressed = secp256k1.getPublicKey(ETH_KEY, false)
const ETH_ADDRESS = `0x${bytesToHex(keccak_256(ethUncompressed.subarray(1)).subarray(-20))}` // lowercase
// An EIP-1193 provider that answers personal_sign with the fixed key (what a wallet does).
const ethProvider = {
  async request({ method, params }) {
    if (method === 'eth_chainId') return '0x1'
    if (method !== 'personal_sign') throw new Error(`unexpected ${method}`)
    const message = hexToBytes(params[0].replace(/^0x/, ''))
    return personalSign(message)
  },
}
function personalSign(message) {
  const digest = keccak_256(concatBytes(utf8ToBytes(`\x19Ethereum Signed Message:\n${message.length}`), message))
  const sig = secp256k1.sign(digest, ETH_KEY)
  return `0x${bytesToHex(sig.toCompactRawBytes())}${(27 + sig.recovery).toString(16)}`
}
const ETH_ACCOUNT = new AccountId({ address: ETH_ADDRESS, chainId: 'eip155:1' })

const SOL_SEED = seed('ceramic-rs cacao solana wallet')
const SOL_ADDRESS = base58btc.baseEncode(ed25519.getPublicKey(SOL_SEED))
const solProvider = {
  async signMessage(message) { return { signature: ed25519.sign(message, SOL_SEED) } },
}
const SOL_ACCOUNT = new AccountId({ address: SOL_ADDRESS, chainId: 'solana:5eykt4UsFv8P8NJdTREpY1vzqKqZKvdp' })

const FAR_EXP = '2100-01-01T00:00:00.000Z'
const verifiers = { ...getEIP191Verifier(), ...getSolanaVerifier() }
const resolverDid = new DID({ resolver: KeyDidResolver.getResolver() })

/** A CACAO from the real auth method of `wallet`, for the session key of `sessionSeed`. */
async function makeCacao(wallet, sessionDid, opts) {
  const authMethod = wallet === 'ethereum'
    ? await EthereumNodeAuth.getAuthMethod(ethProvider, ETH_ACCOUNT, 'app.example.org')
    : await SolanaNodeAuth.getAuthMethod(solProvider, SOL_ACCOUNT, 'app.example.org')
  return authMethod({
    uri: opts.aud ?? sessionDid,
    resources: opts.resources ?? ['ceramic://*'],
    nonce: opts.nonce ?? 'n0nceF1xed',
    expirationTime: opts.exp ?? FAR_EXP,
  })
}

/** An old-client CACAO: SIWE signed over the message with the lowercase address (toMessage()). */
async function makeLegacyCacao(sessionDid) {
  const siwe = new SiweMessage({
    domain: 'app.example.org',
    address: ETH_ADDRESS,
    statement: 'Give this application access to some of your data on Ceramic',
    uri: sessionDid,
    version: '1',
    nonce: 'lowercase1',
    issuedAt: new Date().toISOString(),
    expirationTime: FAR_EXP,
    chainId: '1',
    resources: ['ceramic://*'],
  })
  siwe.signature = personalSign(utf8ToBytes(siwe.signMessage()))
  return Cacao.fromSiweMessage(siwe)
}

async function sessionDid(label, cacao) {
  const didKey = await createDIDKey(seed(`ceramic-rs cacao session ${label}`))
  return DIDSession.initDID(didKey, cacao)
}

async function carBytes(roots, blocks) {
  const { writer, out } = CarWriter.create(roots)
  const chunks = []
  const collect = (async () => { for await (const c of out) chunks.push(c) })()
  for (const b of blocks) await writer.put(b)
  await writer.close()
  await collect
  return Buffer.concat(chunks)
}

function signedMessage(cacao) {
  if (cacao.h.t === 'eip4361') return SiweMessage.fromCacao(cacao).toMessageEip55()
  return SiwsMessage.fromCacao(cacao).toMessage()
}

/** One commit: blocks, CAR (envelope root; envelope, payload, CACAO blocks) and the JS verdict. */
async function describe(dagJws, cacao, streamId, atTime, cacaoBytesOverride = null) {
  const { jws, linkedBlock, cacaoBlock } = dagJws
  if (!cacaoBlock) throw new Error('no cacaoBlock: the DID has no capability')
  const envelope = dagJose.encode(jws)
  const envelopeCid = CID.createV1(dagJose.code, await sha256.digest(envelope))
  const payloadCid = CID.createV1(dagCbor.code, await sha256.digest(linkedBlock))
  const cacaoCid = CID.createV1(dagCbor.code, await sha256.digest(cacaoBlock))
  const protectedJson = new TextDecoder().decode(base64url.baseDecode(jws.signatures[0].protected))
  if (JSON.parse(protectedJson).cap !== `ipfs://${cacaoCid}`) throw new Error('cap is not the CACAO block CID')
  const sid = streamId ?? new StreamID(0, envelopeCid)
  const carried = cacaoBytesOverride ?? cacaoBlock
  const car = await carBytes([envelopeCid], [
    { cid: envelopeCid, bytes: envelope },
    { cid: payloadCid, bytes: linkedBlock },
    { cid: cacaoCid, bytes: carried },
  ])
  // The real verifier, with the options js-ceramic's SignatureUtils.verifyCommitSignature passes
  // (the resource check it makes before is the rule in specs/identity.md; tested in Rust).
  let jsError = null
  try {
    await resolverDid.verifyJWS(jws, {
      atTime: new Date(atTime * 1000),
      issuer: cacao.p.iss,
      capability: await Cacao.fromBlockBytes(carried),
      revocationPhaseOutSecs: 24 * 60 * 60,
      verifiers,
    })
  } catch (e) {
    jsError = e.message
  }
  return {
    envelopeCid,
    record: {
      envelope_cid: envelopeCid.toString(),
      payload_cid: payloadCid.toString(),
      cacao_cid: cacaoCid.toString(),
      stream_id: sid.toString(),
      protected_json: protectedJson,
      envelope_hex: hex(envelope),
      payload_hex: hex(linkedBlock),
      cacao_block_hex: hex(carried),
      car_hex: hex(car),
      js_error: jsError,
    },
  }
}

function tileAt(streamState) {
  return new TileDocument(new StreamStateSubject(streamState), undefined)
}

/** Genesis + updates of a Tile written by `did`; returns records. */
async function writeTile(name, did, cacao, content, updates, atTime, opts = {}) {
  const signer = CeramicSigner.fromDID(did)
  const unique = seed(`ceramic-rs cacao unique ${name}`).slice(0, 12)
  const genesis = await withFixedRandom(unique, () => TileDocument.makeGenesis(signer, content, {}))
  const g = await describe(genesis, cacao, null, atTime, opts.cacaoBytesOverride)
  const streamId = new StreamID(0, g.envelopeCid)
  const genesisPayload = dagCbor.decode(genesis.linkedBlock)
  let state = {
    type: TileDocument.STREAM_TYPE_ID,
    content,
    metadata: { ...genesisPayload.header },
    signature: SignatureStatus.SIGNED,
    anchorStatus: AnchorStatus.NOT_REQUESTED,
    log: [{ cid: g.envelopeCid, type: EventType.INIT }],
  }
  const records = [g.record]
  for (const u of updates) {
    const updateSigner = u.did ? CeramicSigner.fromDID(u.did) : signer
    const commit = await tileAt(state).makeCommit(updateSigner, u.content)
    const c = await describe(commit, u.cacao ?? cacao, streamId, atTime)
    records.push(c.record)
    state = { ...state, content: u.content, log: [...state.log, { cid: c.envelopeCid, type: EventType.DATA }] }
  }
  return { streamId, records, controller: genesisPayload.header.controllers[0] }
}

function cacaoRecord(cacao, lowercase = false) {
  return {
    cacao_hex: hex(dagCbor.encode(cacao)),
    cacao_json: cacao,
    signed_message: lowercase ? SiweMessage.fromCacao(cacao).toMessage() : signedMessage(cacao),
  }
}

// ------------------------------------------------------------------------------------------------

async function main() {
  const outDir = process.argv[2]
  if (!outDir) throw new Error('usage: node gen.mjs <out_dir>')
  const at = Math.floor(NOW / 1000) + 3600 // verified an hour after signing
  const cases = []
  const sessionKeyDid = async (label) => (await createDIDKey(seed(`ceramic-rs cacao session ${label}`))).id

  // Valid: an Ethereum session (EIP-55 message, as did-session signs today).
  const ethCacao = await makeCacao('ethereum', await sessionKeyDid('eth'), {})
  const ethDid = await sessionDid('eth', ethCacao)
  const eth = await writeTile('eth', ethDid, ethCacao, { title: 'from an ethereum wallet' },
    [{ content: { title: 'updated', n: 2 } }, { content: { title: 'updated again', n: 3 } }], at)
  // A second session of the same wallet, allowed only this stream, updates it.
  const streamCacao = await makeCacao('ethereum', await sessionKeyDid('eth-stream'),
    { resources: [`ceramic://${eth.streamId}`], nonce: 'strEamOnly1' })
  const streamDid = await sessionDid('eth-stream', streamCacao)
  const streamUpdate = await describe(await tileAt({
    type: 0, content: { title: 'updated again', n: 3 }, metadata: { controllers: [eth.controller] },
    signature: SignatureStatus.SIGNED, anchorStatus: AnchorStatus.NOT_REQUESTED,
    log: [{ cid: CID.parse(eth.records[0].envelope_cid), type: EventType.INIT },
      ...eth.records.slice(1).map((r) => ({ cid: CID.parse(r.envelope_cid), type: EventType.DATA }))],
  }).makeCommit(CeramicSigner.fromDID(streamDid), { title: 'by a stream-scoped session' }), streamCacao, eth.streamId, at)
  cases.push({ name: 'ethereum-session', valid: true, at_time: at, controller: eth.controller,
    ...cacaoRecord(ethCacao), commits: eth.records })
  cases.push({ name: 'ethereum-stream-resource', valid: true, at_time: at, controller: eth.controller,
    ...cacaoRecord(streamCacao), commits: [streamUpdate.record] })

  // Valid: a Solana session.
  const solCacao = await makeCacao('solana', await sessionKeyDid('sol'), {})
  const solDid = await sessionDid('sol', solCacao)
  const sol = await writeTile('sol', solDid, solCacao, { title: 'from a solana wallet' },
    [{ content: { title: 'solana update' } }], at)
  cases.push({ name: 'solana-session', valid: true, at_time: at, controller: sol.controller,
    ...cacaoRecord(solCacao), commits: sol.records })

  // Valid: an old client's CACAO, signed over the lowercase address.
  const legacyCacao = await makeLegacyCacao(await sessionKeyDid('legacy'))
  const legacy = await writeTile('legacy', await sessionDid('legacy', legacyCacao), legacyCacao,
    { title: 'lowercase siwe' }, [], at)
  cases.push({ name: 'ethereum-lowercase-message', valid: true, at_time: at, controller: legacy.controller,
    ...cacaoRecord(legacyCacao, true), commits: legacy.records })

  // Expired: exp an hour after signing, verified two days later (past the 24 h phase-out + 5 min skew).
  const expiredCacao = await makeCacao('ethereum', await sessionKeyDid('expired'),
    { exp: new Date(NOW + 3600 * 1000).toISOString(), nonce: 'expiring01' })
  const expired = await writeTile('expired', await sessionDid('expired', expiredCacao), expiredCacao,
    { title: 'expires' }, [], Math.floor(NOW / 1000) + 2 * 86400)
  cases.push({ name: 'expired', valid: false, error: 'expired', at_time: Math.floor(NOW / 1000) + 2 * 86400,
    controller: expired.controller, ...cacaoRecord(expiredCacao), commits: expired.records })

  // Wrong audience: the CACAO names another session key than the one that signs.
  const audCacao = await makeCacao('ethereum', await sessionKeyDid('someone-else'), { nonce: 'wrongAud01' })
  const aud = await writeTile('aud', await sessionDid('aud', audCacao), audCacao, { title: 'wrong aud' }, [], at)
  cases.push({ name: 'wrong-audience', valid: false, error: 'audience', at_time: at, controller: aud.controller,
    ...cacaoRecord(audCacao), commits: aud.records })

  // Wrong resource: the CACAO covers another stream only.
  const other = 'kjzl6cwe1jw147dvq16zluojmraqvwdmbh61dx9e0c59i344lcrsgqfohexp60s'
  const resCacao = await makeCacao('ethereum', await sessionKeyDid('res'), { resources: [`ceramic://${other}`], nonce: 'wrongRes01' })
  const res = await writeTile('res', await sessionDid('res', resCacao), resCacao, { title: 'wrong resource' }, [], at)
  cases.push({ name: 'wrong-resource', valid: false, error: 'resource', at_time: at, controller: res.controller,
    ...cacaoRecord(resCacao), commits: res.records })

  // Tampered signature: one byte of the wallet signature changed; the JWS names the tampered block.
  const tampered = structuredClone(await makeCacao('ethereum', await sessionKeyDid('tampered'), { nonce: 'tampered01' }))
  const sig = tampered.s.s
  tampered.s.s = sig.slice(0, 80) + (sig[80] === 'a' ? 'b' : 'a') + sig.slice(81) // in s
  const tam = await writeTile('tampered', await sessionDid('tampered', tampered), tampered, { title: 'tampered' }, [], at)
  cases.push({ name: 'tampered-signature', valid: false, error: 'signature', at_time: at, controller: tam.controller,
    ...cacaoRecord(tampered), commits: tam.records })

  // Tampered Solana signature.
  const solTampered = structuredClone(await makeCacao('solana', await sessionKeyDid('sol-tampered'), { nonce: 'tampered02' }))
  const solSig = base58btc.baseDecode(solTampered.s.s)
  solSig[5] ^= 1
  solTampered.s.s = base58btc.baseEncode(solSig)
  const solTam = await writeTile('sol-tampered', await sessionDid('sol-tampered', solTampered), solTampered,
    { title: 'tampered solana' }, [], at)
  cases.push({ name: 'solana-tampered-signature', valid: false, error: 'signature', at_time: at,
    controller: solTam.controller, ...cacaoRecord(solTampered), commits: solTam.records })

  // CACAO CID mismatch: the CAR carries another CACAO's bytes under the CID the JWS names.
  const misCacao = await makeCacao('ethereum', await sessionKeyDid('mismatch'), { nonce: 'mismatch01' })
  const mis = await writeTile('mismatch', await sessionDid('mismatch', misCacao), misCacao, { title: 'mismatch' }, [], at,
    { cacaoBytesOverride: dagCbor.encode(ethCacao) })
  cases.push({ name: 'cacao-cid-mismatch', valid: false, error: 'cid', at_time: at, controller: mis.controller,
    ...cacaoRecord(misCacao), commits: mis.records })

  for (const c of cases) {
    for (const r of c.commits) {
      if (c.valid && r.js_error) throw new Error(`${c.name}: JS refused a valid commit: ${r.js_error}`)
    }
  }
  const doc = {
    source: `npm ${PKGS.map((n) => `${n}@${VERSIONS[n]}`).join(', ')}; generated by xtask/js-identity/gen.mjs`,
    notes: [
      'Clock fixed at 2026-01-01T00:00:00Z while signing; at_time is the verification time (seconds) to use.',
      `Ethereum wallet ${ETH_ADDRESS} (private key sha256("ceramic-rs cacao ethereum wallet")); Solana wallet ${SOL_ADDRESS} (seed sha256("ceramic-rs cacao solana wallet")).`,
      'Session keys: Ed25519 seeds sha256("ceramic-rs cacao session <label>") through did-session createDIDKey + DIDSession.initDID.',
      'car_hex: CAR v1, root = envelope; blocks envelope, payload, CACAO (under the cap CID; cacao-cid-mismatch carries other bytes there, as does cacao_block_hex).',
      'js_error: the message of dids DID#verifyJWS with the options js-ceramic SignatureUtils passes (null: verified). It does not check resources (js-ceramic checks them before).',
      'signed_message: the SIWE / CAIP-122 text the wallet signed (EIP-55 address for eip4361, as SiweMessage#toMessageEip55).',
    ],
    cases,
  }
  const path = join(outDir, 'crates/did/testdata/js-cacao.json')
  mkdirSync(dirname(path), { recursive: true })
  writeFileSync(path, JSON.stringify(doc, null, 2) + '\n')
  console.log(`wrote ${path} (${cases.length} cases)`)
}

main().catch((e) => { console.error(e); process.exit(1) })
