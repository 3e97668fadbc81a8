// JSON-patch vectors: what fast-json-patch's `compare(old, new)` writes, and the whole signed update commit
// TileDocument#makeCommit (what TileDocument.update sends) makes from it.
//
// Called from gen-vectors.mjs (which passes its helpers in, so this file has no import cycle with it):
//   crates/doctype-tile/testdata/js-patch-compare.json   compare(old, new) over generated edits + hand-picked roots
//   crates/doctype-tile/testdata/js-patch-commits.json   signed Tile updates for a subset of the edits
//
// Every edit comes from a fixed-seed PRNG (mulberry32), so the files are reproducible byte for byte.

import { isDeepStrictEqual } from 'node:util'

import * as dagCbor from '@ipld/dag-cbor'
import { base64 } from 'multiformats/bases/base64'
import { StreamID } from '@ceramicnetwork/streamid'
import { CeramicSigner, StreamStateSubject, SignatureStatus, AnchorStatus, EventType } from '@ceramicnetwork/common'
import { TileDocument } from '@ceramicnetwork/stream-tile'
import { DID } from 'dids'
import * as KeyDidResolver from 'key-did-resolver'
import jsonpatch from 'fast-json-patch'

const SEED = 0x15c0ffee
const GENERATED = 400
/** Every COMMIT_EVERY-th generated edit also becomes a signed update commit. */
const COMMIT_EVERY = 8

function mulberry32(seed) {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

// Keys: plain, unicode, JSON-pointer escapes (`~` and `/`), array-index-like (JS lists those first, ascending),
// almost-index-like (not hoisted), and `length`.
const KEYS = [
  'a', 'b', 'c', 'name', 'tags', 'count', 'nested', 'items', '', ' ', 'key with spaces',
  'é', 'ß', '日本語', '😀', 'Ωmega', 'a/b', '~', '/', '~1', '~0', 'a~b/c', '//', '~~',
  '0', '1', '2', '10', '01', '-1', '1.5', '4294967294', '4294967295', 'length', 'toJSON', '__proto__x',
]
const STRINGS = ['', 'x', 'hello', 'héllo wörld', '日本語', '🌍🚀', 'a/b~c', '~1', 'null', '0', 'true', ' ']

function generator(seed) {
  const rnd = mulberry32(seed)
  const int = (n) => Math.floor(rnd() * n)
  const pick = (list) => list[int(list.length)]
  const chance = (p) => rnd() < p

  function scalar() {
    switch (int(9)) {
      case 0: return null
      case 1: return chance(0.5)
      case 2: return int(2001) - 1000
      case 3: return pick([0, 1, -1, 2 ** 31, -(2 ** 31), 2 ** 53 - 1, -(2 ** 53 - 1), 4294967295])
      case 4: return (int(20001) - 10000) / 8 + 0.0625 // never integral
      case 5: return pick([0.1, -0.25, 3.14159, 1e-7, 6.02e23, 1.7976931348623157e308])
      default: return pick(STRINGS)
    }
  }
  function value(depth) {
    const r = rnd()
    if (depth >= 4 || r < 0.5) return scalar()
    return r < 0.78 ? object(depth + 1) : array(depth + 1)
  }
  function object(depth) {
    const out = {}
    const n = int(6)
    for (let i = 0; i < n; i++) out[pick(KEYS)] = value(depth)
    return out
  }
  function array(depth) {
    return Array.from({ length: int(6) }, () => value(depth))
  }
  function freshKey(obj) {
    for (let i = 0; i < 8; i++) {
      const k = pick(KEYS)
      if (!Object.prototype.hasOwnProperty.call(obj, k)) return k
    }
    return null
  }

  /** A new version of `v`: edits in place on a deep copy, sometimes a different type altogether. */
  function mutate(v, depth) {
    if (chance(0.08)) return value(depth) // type change (or the same type, rebuilt)
    if (Array.isArray(v)) return mutateArray(v, depth)
    if (v !== null && typeof v === 'object') return mutateObject(v, depth)
    return chance(0.5) ? v : scalar()
  }
  function mutateObject(o, depth) {
    let out = {}
    for (const [k, x] of Object.entries(o)) {
      const r = rnd()
      if (r < 0.15) continue // removed
      if (r < 0.2) { out[k] = undefined; continue } // an undefined property: compare() treats it as absent
      out[k] = r < 0.55 ? mutate(x, depth + 1) : structuredClone(x)
    }
    const adds = int(3)
    for (let i = 0; i < adds; i++) {
      const k = freshKey(out)
      if (k !== null) out[k] = value(depth + 1)
    }
    if (chance(0.15)) {
      // the same keys written in another order (a caller building the object anew)
      const entries = Object.entries(out)
      for (let i = entries.length - 1; i > 0; i--) {
        const j = int(i + 1);
        [entries[i], entries[j]] = [entries[j], entries[i]]
      }
      out = Object.fromEntries(entries)
    }
    return out
  }
  function mutateArray(a, depth) {
    let out = a.map((x) => (chance(0.4) ? mutate(x, depth + 1) : structuredClone(x)))
    switch (int(6)) {
      case 0: out.push(...Array.from({ length: 1 + int(3) }, () => value(depth + 1))); break // grows
      case 1: out = out.slice(0, int(out.length + 1)); break // shrinks
      case 2: out.unshift(value(depth + 1)); break // everything shifts
      case 3: if (out.length > 0) out.splice(int(out.length), 1); break
      case 4: out = []; break
      default: break
    }
    return out
  }
  return { object, mutateObject, int, chance }
}

/** The JSON view of a JS value (what a Rust caller can hold: undefined properties dropped). */
const jsonView = (v) => (v === undefined ? undefined : JSON.parse(JSON.stringify(v)))
const hasUndefined = (v) => JSON.stringify(jsonView(v)) !== JSON.stringify(v, (k, x) => (x === undefined ? '__undef__' : x))

/** compare(old, new) and what fast-json-patch's validating applyPatch makes of it on a copy of old. */
function runCompare(oldV, newV) {
  let ops
  try {
    ops = jsonpatch.compare(oldV, newV)
  } catch (e) {
    return { throws: e instanceof Error ? e.message : String(e) }
  }
  let appliesToNew
  try {
    const doc = jsonpatch.applyPatch(structuredClone(oldV), jsonpatch.deepClone(ops), true, true).newDocument
    appliesToNew = isDeepStrictEqual(jsonView(doc), jsonView(newV))
  } catch {
    appliesToNew = false
  }
  return { ops, appliesToNew }
}

// Roots that are not two objects or two arrays: compare() walks them too, with JS property rules
// (strings have index properties and `length`, arrays have `length`, numbers have none, null throws).
const ROOT_CASES = [
  ['root-object-to-empty-array', {}, []],
  ['root-empty-array-to-object', [], {}],
  ['root-object-to-array', { a: 1, b: 2 }, []],
  ['root-array-to-object', [1], { a: 2 }],
  ['root-array-to-object-index-key', [1], { 0: 5 }],
  ['root-object-with-index-key-to-array', { 0: 1, a: 2 }, [5]],
  ['root-object-with-length-to-array', { length: 1, b: 2 }, [7]],
  ['root-object-with-length-and-index-to-array', { 0: 7, length: 1, x: 0 }, [7]],
  ['root-array-to-number', [1, 2], 5],
  ['root-one-element-array-to-number', [1], 5],
  ['root-object-to-number', { a: 1 }, 5],
  ['root-number-to-object', 5, { a: 1 }],
  ['root-number-to-number', 5, 6],
  ['root-number-same', 5, 5],
  ['root-bool-to-bool', true, false],
  ['root-string-to-string', 'ab', 'xy'],
  ['root-array-to-shorter-string', ['a', 'b', 'c'], 'ab'],
  ['root-array-to-string', ['a', 'b'], 'xy'],
  ['root-string-to-array', 'ab', ['a', 'b']],
  ['root-string-to-object', 'ab', { 0: 'a', 1: 'b' }],
  ['root-emoji-string-to-array', '😀', ['x']],
  ['root-null-to-null', null, null],
  ['root-object-to-null', { a: 1 }, null],
  ['root-null-to-object', null, { a: 1 }],
  ['root-string-to-null', 'x', null],
  ['root-empty-object-to-scalar', {}, 'x'],
  ['root-array-to-empty-string', [1], ''],
]

// Hand-picked edits inside an object root, one per rule.
const RULE_CASES = [
  ['removed-keys-last-first', { a: 1, b: 2, c: 3 }, {}],
  ['added-keys-in-new-order', {}, { z: 1, a: 2, m: 3 }],
  ['index-keys-first-ascending', { b: 1, 10: 2, 2: 3 }, { 2: 4, b: 5, 10: 6, 1: 7, x: 8 }],
  ['array-grows', { l: [1] }, { l: [1, 2, 3] }],
  ['array-shrinks-from-the-end', { l: [1, 2, 3, 4] }, { l: [1] }],
  ['array-front-insert-shifts', { l: ['a', 'b'] }, { l: ['x', 'a', 'b'] }],
  ['nested-array-to-object', { v: [1] }, { v: { 0: 1 } }],
  ['nested-object-to-array', { v: {} }, { v: [] }],
  ['nested-null-to-object', { v: null }, { v: {} }],
  ['escaped-pointer-keys', { 'a/b': 1, '~': 2, '~1': 3 }, { 'a/b': 2, '~': 3, '~1': 4, '/~': 5 }],
  ['undefined-property-removes', { a: 1, b: 2 }, { a: undefined, b: 2, c: undefined }],
  ['deep-nested-edit', { a: { b: { c: { d: [1, { e: 'x' }] } } } }, { a: { b: { c: { d: [1, { e: 'y', f: null }] } } } }],
  ['replace-keeps-walking-after-remove', { a: 1, b: { c: 1 }, d: 4 }, { b: { c: 2 }, e: 5 }],
]

export async function patchVectors(h) {
  const { makeDid, withFixedRandom, labelBytes, source, describeSignedCommit } = h

  const edits = []
  for (const [name, oldV, newV] of ROOT_CASES) edits.push({ name, oldV, newV })
  for (const [name, oldV, newV] of RULE_CASES) edits.push({ name, oldV, newV })
  const gen = generator(SEED)
  const generatedNames = []
  for (let i = 0; i < GENERATED; i++) {
    const oldV = gen.object(0)
    const newV = gen.mutateObject(oldV, 0)
    const name = `generated-${String(i).padStart(3, '0')}`
    edits.push({ name, oldV, newV })
    generatedNames.push(name)
  }

  const cases = []
  for (const { name, oldV, newV } of edits) {
    const r = runCompare(oldV, newV)
    const expected = r.throws !== undefined
      ? { throws: r.throws }
      : { operations: r.ops, applies_to_new: r.appliesToNew }
    cases.push({
      name,
      input: { old: oldV, new: jsonView(newV), new_had_undefined: hasUndefined(newV) },
      expected,
    })
  }
  const compareDoc = {
    source: source(['fast-json-patch'], `seed 0x${SEED.toString(16)}; compare(old, new) as TileDocument#makeCommit calls it`),
    notes: [
      'operations: jsonpatch.compare(old, new) exactly as returned (order and op kinds); throws: the message when it throws.',
      'applies_to_new: jsonpatch.applyPatch(copy of old, operations, validate=true) gave a value deep-equal to new.',
      'new is the JSON view of what compare() was given: new_had_undefined marks an object property that was undefined ' +
        '(compare treats it as absent, JSON.stringify drops it).',
      'Object keys are written in JS Object.keys order (array-index keys first, ascending; then insertion order).',
      'root-* cases have roots other than two objects or two arrays; the rest are edits of an object root.',
    ],
    cases,
  }

  // Signed updates for a subset: a JS node's view of the genesis content (the dag-cbor decoded data), updated with
  // TileDocument#makeCommit(signer, new), as TileDocument.update does before sending it.
  const resolverOnly = new DID({ resolver: KeyDidResolver.getResolver() })
  // Ed25519 only: the patch is what this file is about; secp256k1 signing has its own vectors (js-tile.json).
  const keys = [
    { key_type: 'ed25519', seed: 'a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5' },
  ]
  const signers = []
  for (const k of keys) {
    const did = await makeDid(k.seed, k.key_type)
    signers.push({ ...k, did, signer: CeramicSigner.fromDID(did) })
  }
  const commitCases = []
  const byName = new Map(edits.map((e) => [e.name, e]))
  const chosen = [...RULE_CASES.map(([n]) => n), ...generatedNames.filter((_, i) => i % COMMIT_EVERY === 0)]
  for (const [n, name] of chosen.entries()) {
    const { oldV, newV } = byName.get(name)
    const s = signers[0]
    const uniqueBytes = labelBytes(`ceramic-rs patch unique ${name}`, 12)
    const genesisJws = await withFixedRandom(uniqueBytes, () => TileDocument.makeGenesis(s.signer, oldV, {}))
    const genesisPayload = dagCbor.decode(genesisJws.linkedBlock)
    if (genesisPayload.header.unique !== base64.baseEncode(uniqueBytes)) throw new Error('unique not taken from fixed RNG')
    const g = await describeSignedCommit(genesisJws, resolverOnly, null)
    const streamId = new StreamID(0, g.envelopeCid)
    const state = {
      type: TileDocument.STREAM_TYPE_ID,
      content: genesisPayload.data, // what a JS node holds: the decoded genesis data
      metadata: { ...genesisPayload.header },
      signature: SignatureStatus.SIGNED,
      anchorStatus: AnchorStatus.NOT_REQUESTED,
      log: [{ cid: g.envelopeCid, type: EventType.INIT }],
    }
    const doc = new TileDocument(new StreamStateSubject(state), undefined)
    const commitJws = await doc.makeCommit(s.signer, newV)
    const c = await describeSignedCommit(commitJws, resolverOnly, streamId)
    commitCases.push({
      name: `commit-${name}`,
      input: {
        key_type: s.key_type,
        seed: s.seed,
        unique: genesisPayload.header.unique,
        old: genesisPayload.data,
        new: jsonView(newV),
      },
      expected: {
        did: s.did.id,
        genesis: { payload_hex: g.record.payload_hex, envelope_hex: g.record.envelope_hex, envelope_cid: g.record.envelope_cid },
        stream_id: g.record.stream_id,
        operations: c.record.payload_dagjson.data,
        update: {
          payload_hex: c.record.payload_hex,
          payload_cid: c.record.payload_cid,
          jws_payload: c.record.jws.payload,
          envelope_hex: c.record.envelope_hex,
          envelope_cid: c.record.envelope_cid,
        },
      },
    })
  }
  const commitsDoc = {
    source: source(['@ceramicnetwork/stream-tile', '@ceramicnetwork/common', 'fast-json-patch', 'dids',
      'key-did-provider-ed25519', 'key-did-resolver', 'dag-jose', '@ipld/dag-cbor'],
    `seed 0x${SEED.toString(16)}; genesis from TileDocument.makeGenesis(signer, old, {}) with header.unique from a patched RNG; ` +
      'update from TileDocument#makeCommit(signer, new) on a TileDocument whose state content is the decoded genesis data'),
    notes: [
      'old is the genesis data as @ipld/dag-cbor decodes it (key order as a JS node holds the content); new is the JSON view of what makeCommit got.',
      'operations is the data of the update payload (fast-json-patch compare(old, new)); update is the signed commit (dag-jose envelope).',
      'Each case is one genesis and one update: the rule cases of js-patch-compare.json and every 8th generated edit.',
    ],
    cases: commitCases,
  }
  return { compare: compareDoc, commits: commitsDoc }
}
