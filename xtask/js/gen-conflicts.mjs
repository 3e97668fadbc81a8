// Conflict-resolution vectors: js-ceramic core's own `StateManipulator#_pickLogToAccept(log1, log2)`
// (@ceramicnetwork/core lib/stream-loading/state-manipulator.js) decides every case.
//
// Called from gen-vectors.mjs:
//   crates/engine/testdata/js-conflicts.json
//
// The cases are designed here (each names the rule it is meant to exercise and the winner the design expects); the
// generator fails if the real code disagrees with the design, so a surprise cannot slip into the vectors unnoticed.
// No part of the rule is computed here: `expected.winner` is what _pickLogToAccept returned.

import { createHash } from 'node:crypto'
import { join, dirname } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'

import { CID } from 'multiformats/cid'
import * as Digest from 'multiformats/hashes/digest'
import * as dagCbor from '@ipld/dag-cbor'
import * as dagJose from 'dag-jose'

const here = dirname(fileURLToPath(import.meta.url))
const { StateManipulator } = await import(
  pathToFileURL(join(here, 'node_modules/@ceramicnetwork/core/lib/stream-loading/state-manipulator.js')).href)

const INIT = 0
const DATA = 1
const TIME = 2
const T0 = 1700000000

const sha256 = (s) => new Uint8Array(createHash('sha256').update(s).digest())
const cidFromDigest = (codec, digest) => CID.createV1(codec, Digest.create(0x12, digest))
/** CIDv1 (dag-jose for DATA, dag-cbor for TIME) over sha2-256 of a fixed label. */
const cidFor = (type, label) => cidFromDigest(type === TIME ? dagCbor.code : dagJose.code, sha256(`ceramic-rs conflicts ${label}`))

/**
 * The first label `ceramic-rs conflicts tie <tag> <i>` (i = 0, 1, ...) whose sha2-256 digest starts with `prefix`
 * (a list of byte values); deterministic, and the label is recorded with the case.
 */
function searchCid(codec, tag, prefix) {
  for (let i = 0; i < 1 << 24; i++) {
    const label = `ceramic-rs conflicts tie ${tag} ${i}`
    const d = sha256(label)
    if (prefix.every((b, k) => d[k] === b)) return cidFromDigest(codec, d)
  }
  throw new Error(`no CID found for ${tag}`)
}

export async function conflictVectors(h) {
  const { source } = h
  const sm = new StateManipulator(null, null, null, null)
  const cases = []

  /**
   * A branch written as a compact spec: 'D' (DATA) or 'T<seconds offset>' (TIME at T0 + offset) or 'T?' (TIME with no
   * timestamp); DATA entries before a TIME get that TIME's timestamp (core copies anchor timestamps backwards), unless
   * `dataTimestamps` overrides them; the last entry's CID can be forced with `lastCid`.
   */
  const branch = (caseName, side, spec, { lastCid = null, dataTimestamps = null } = {}) => {
    const entries = spec.map((s, i) => {
      const type = s === 'D' ? DATA : s === 'I' ? INIT : TIME
      const timestamp = type === TIME && s !== 'T?' ? T0 + Number(s.slice(1)) : null
      return { cid: cidFor(type, `${caseName} ${side} ${i}`), type, timestamp }
    })
    // timestamps copied backwards onto non-TIME entries, up to the previous TIME entry
    let ts = null
    for (let i = entries.length - 1; i >= 0; i--) {
      if (entries[i].type === TIME) ts = entries[i].timestamp
      else entries[i].timestamp = ts
    }
    if (dataTimestamps) entries.forEach((e, i) => { if (e.type !== TIME && dataTimestamps[i] !== undefined) e.timestamp = dataTimestamps[i] })
    if (lastCid) entries[entries.length - 1].cid = lastCid
    return entries
  }
  const toJs = (entries) => entries.map((e) => {
    const out = { cid: e.cid, type: e.type }
    if (e.timestamp !== null) out.timestamp = e.timestamp
    return out
  })
  const toJson = (entries) => entries.map((e) => ({ cid: e.cid.toString(), type: e.type, timestamp: e.timestamp }))

  const add = (name, rule, intended, log1, log2, extra = {}) => {
    const js1 = toJs(log1)
    const js2 = toJs(log2)
    const picked = sm._pickLogToAccept(js1, js2)
    const winner = picked === js1 ? 'log1' : picked === js2 ? 'log2' : null
    if (winner === null) throw new Error(`${name}: _pickLogToAccept returned neither log`)
    if (winner !== intended) throw new Error(`${name}: design expects ${intended}, js-ceramic picked ${winner}`)
    cases.push({ name, input: { log1: toJson(log1), log2: toJson(log2), ...extra.input }, expected: { winner, rule, ...extra.expected } })
  }
  const c = (name, rule, intended, spec1, spec2, opts1 = {}, opts2 = {}, extra = {}) =>
    add(name, rule, intended, branch(name, 'log1', spec1, opts1), branch(name, 'log2', spec2, opts2), extra)

  // --- rule 1: exactly one branch anchored ----------------------------------------------------------
  const R1 = 'only-one-anchored'
  c('only-log1-anchored', R1, 'log1', ['D', 'T0'], ['D'])
  c('only-log2-anchored', R1, 'log2', ['D'], ['D', 'T0'])
  c('only-log1-anchored-shorter', R1, 'log1', ['T0'], ['D', 'D', 'D', 'D', 'D'])
  c('only-log2-anchored-shorter', R1, 'log2', ['D', 'D', 'D', 'D', 'D', 'D'], ['D', 'D', 'T300'])
  c('only-log1-anchored-with-trailing-data', R1, 'log1', ['D', 'T0', 'D', 'D'], ['D', 'D', 'D', 'D', 'D'])
  c('only-log2-anchored-unanchored-has-smaller-data-timestamps', R1, 'log2', ['D', 'D'], ['D', 'T99999'], { dataTimestamps: [1, 2] })
  c('only-log1-anchored-timestamp-missing', R1, 'log1', ['D', 'T?'], ['D', 'D', 'D'])

  // --- rule 2: both anchored, earlier first anchor wins ---------------------------------------------
  const R2 = 'earlier-first-anchor'
  c('both-anchored-log1-earlier', R2, 'log1', ['D', 'T0'], ['D', 'T600'])
  c('both-anchored-log2-earlier', R2, 'log2', ['D', 'T600'], ['D', 'T0'])
  c('both-anchored-log1-earlier-but-shorter', R2, 'log1', ['D', 'T100'], ['D', 'D', 'D', 'D', 'T200'])
  c('both-anchored-log2-earlier-but-shorter', R2, 'log2', ['D', 'D', 'D', 'D', 'T100'], ['T1'])
  c('both-anchored-one-second-apart', R2, 'log2', ['D', 'T1'], ['D', 'T0'])
  c('both-anchored-log1-first-earlier-later-anchor-later', R2, 'log1', ['D', 'T0', 'D', 'T2000'], ['D', 'T1000'])
  c('both-anchored-log1-later-anchor-earlier-than-log2-first', R2, 'log2', ['D', 'T1800', 'D', 'T500'], ['D', 'T1000'])
  c('both-anchored-log2-later-anchor-earlier-than-log1-first', R2, 'log1', ['D', 'T1000'], ['T1800', 'D', 'T500'])
  c('both-anchored-log1-earlier-longer-after-anchor', R2, 'log1', ['T0', 'D', 'D', 'D'], ['D', 'D', 'T5'])
  c('both-anchored-earlier-data-timestamps-ignored', R2, 'log1', ['D', 'D', 'T100'], ['D', 'T200'], {}, { dataTimestamps: [1] })

  // --- rule 3: equal first-anchor timestamps, longer up to and including the first TIME wins ---------
  const R3A = 'equal-anchor-time-longer-until-first-anchor'
  c('equal-anchor-log1-longer', R3A, 'log1', ['D', 'D', 'T0'], ['D', 'T0'])
  c('equal-anchor-log2-longer', R3A, 'log2', ['T0'], ['D', 'D', 'D', 'T0'])
  c('equal-anchor-log1-longer-total-but-not-until-anchor', R3A, 'log2', ['D', 'T0', 'D', 'D', 'D'], ['D', 'D', 'T0'])
  c('equal-anchor-log2-longer-total-but-not-until-anchor', R3A, 'log1', ['D', 'D', 'T0'], ['T0', 'D', 'D', 'D', 'D'])
  c('equal-anchor-later-anchors-differ', R3A, 'log1', ['D', 'D', 'T0', 'T900'], ['D', 'T0', 'T100'])
  c('both-anchored-timestamps-missing-longer-wins', 'anchor-time-missing-then-length', 'log2', ['D', 'T?'], ['D', 'D', 'T?'])
  c('both-anchored-one-timestamp-missing-longer-wins', 'anchor-time-missing-then-length', 'log1', ['D', 'D', 'T?'], ['D', 'T0'])

  // --- rule 3: neither anchored, longer wins ---------------------------------------------------------
  const R3U = 'unanchored-longer'
  c('unanchored-log1-longer', R3U, 'log1', ['D', 'D'], ['D'])
  c('unanchored-log2-longer', R3U, 'log2', ['D', 'D', 'D'], ['D', 'D', 'D', 'D'])
  c('unanchored-log2-much-longer', R3U, 'log2', ['D'], ['D', 'D', 'D', 'D', 'D', 'D', 'D', 'D'])
  c('unanchored-data-timestamps-ignored', R3U, 'log1', ['D', 'D', 'D'], ['D', 'D'], { dataTimestamps: [T0 + 500, T0 + 500, T0 + 500] }, { dataTimestamps: [T0, T0] })

  // --- rule 4: tie -> `log1.last.cid.bytes < log2.last.cid.bytes ? log1 : log2` ------------------------
  // JS compares the two Uint8Arrays as strings ("1,133,1,18,32,..."), so the order is that of the comma-joined
  // decimal bytes. The pairs below differ first in the digest; several are ordered differently bytewise.
  const R4 = 'tie-last-cid-comma-string'
  const bytewiseSmaller = (a, b) => {
    for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return a[i] < b[i] ? 'log1' : 'log2'
    return a.length < b.length ? 'log1' : a.length > b.length ? 'log2' : 'equal'
  }
  const tie = (name, intended, prefix1, prefix2, { spec = ['D', 'D'], codec = dagJose.code, codec2 = codec } = {}) => {
    const last1 = searchCid(codec, `${name} log1`, prefix1)
    const last2 = searchCid(codec2, `${name} log2`, prefix2)
    const log1 = branch(name, 'log1', spec, { lastCid: last1 })
    const log2 = branch(name, 'log2', spec, { lastCid: last2 })
    const bw = bytewiseSmaller(last1.bytes, last2.bytes)
    add(name, R4, intended, log1, log2, {
      expected: {
        bytewise_smaller_last_cid: bw,
        comma_strings: [last1.bytes.toString(), last2.bytes.toString()].map((s) => s.split(',').slice(0, 8).join(',') + ',...'),
      },
    })
  }
  // bytewise and comma-string order agree
  tie('tie-agree-5-vs-7', 'log1', [5], [7])
  tie('tie-agree-7-vs-5', 'log2', [7], [5])
  tie('tie-agree-2-vs-20', 'log1', [2], [20])
  tie('tie-agree-120-vs-12', 'log2', [120], [12])
  tie('tie-agree-200-vs-201', 'log1', [200], [201])
  // bytewise and comma-string order DISAGREE
  tie('tie-disagree-5-vs-45', 'log2', [5], [45])
  tie('tie-disagree-45-vs-5', 'log1', [45], [5])
  tie('tie-disagree-9-vs-10', 'log2', [9], [10])
  tie('tie-disagree-10-vs-9', 'log1', [10], [9])
  tie('tie-disagree-99-vs-100', 'log2', [99], [100])
  tie('tie-disagree-100-vs-99', 'log1', [100], [99])
  tie('tie-disagree-3-vs-25', 'log2', [3], [25])
  tie('tie-disagree-21-vs-200', 'log2', [21], [200])
  tie('tie-disagree-second-digest-byte-8-vs-64', 'log2', [77, 8], [77, 64])
  // other shapes of a tie
  tie('tie-single-entry-branches-disagree', 'log1', [250], [30], { spec: ['D'] })
  tie('tie-equal-anchor-time-and-length-disagree', 'log2', [7], [60], { spec: ['D', 'T0'], codec: dagCbor.code })
  tie('tie-dag-cbor-vs-dag-jose-last', 'log1', [0], [0], { spec: ['D'], codec: dagCbor.code, codec2: dagJose.code })
  {
    // equal anchor time and equal length up to the first anchor, but the LAST entries (after the anchor) decide
    const name = 'tie-last-entry-after-anchor-decides'
    const last1 = searchCid(dagJose.code, `${name} log1`, [9])
    const last2 = searchCid(dagJose.code, `${name} log2`, [10])
    add(name, R4, 'log2', branch(name, 'log1', ['D', 'T0', 'D'], { lastCid: last1 }), branch(name, 'log2', ['D', 'T0', 'D', 'D', 'D'], { lastCid: last2 }),
      { expected: { bytewise_smaller_last_cid: bytewiseSmaller(last1.bytes, last2.bytes) } })
  }
  {
    // the same last CID on both sides: `<` is false, log2 is returned
    const name = 'tie-identical-last-cid'
    const same = cidFor(DATA, `${name} shared`)
    add(name, R4, 'log2', branch(name, 'log1', ['D'], { lastCid: same }), branch(name, 'log2', ['D'], { lastCid: same }),
      { expected: { bytewise_smaller_last_cid: 'equal' } })
  }

  return {
    source: source(['@ceramicnetwork/core', 'multiformats'],
      'expected.winner = which argument new StateManipulator(...)._pickLogToAccept(log1, log2) returned (lib/stream-loading/state-manipulator.js)'),
    notes: [
      'input.log1 / input.log2: the two branches after the fork point (the last shared entry excluded), oldest first. In js-ceramic log1 is the local branch and log2 the remote one.',
      'Entries: cid (CIDv1 sha2-256; dag-jose for DATA, dag-cbor for TIME entries), type (1 DATA, 2 TIME), timestamp (block time in seconds, or null = the field is absent/undefined in JS). As core does, DATA entries carry the timestamp of the next TIME entry of the branch; cases whose name mentions data timestamps override them to show they are ignored.',
      'A TIME entry with timestamp null: the JS comparisons with undefined are false both ways, so the length rule decides.',
      'expected.rule: the rule the case was designed for (only-one-anchored, earlier-first-anchor, equal-anchor-time-longer-until-first-anchor, anchor-time-missing-then-length, unanchored-longer, tie-last-cid-comma-string). The generator checks the design against js-ceramic and fails on any disagreement.',
      'Tie-break: js-ceramic evaluates `log1[last].cid.bytes < log2[last].cid.bytes`, a relational comparison of two Uint8Arrays, which JS performs on their toString() forms: the comma-joined decimal byte values. expected.bytewise_smaller_last_cid says which last CID is smaller bytewise (for information; it is NOT the rule); expected.comma_strings shows the start of both strings. When the comparison is false (including equal CIDs) log2 wins.',
      'Tie CIDs were found by searching labels "ceramic-rs conflicts tie <case> <log> <i>" for a sha2-256 digest with the given leading byte(s).',
    ],
    cases,
  }
}
