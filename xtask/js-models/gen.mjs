// Golden vectors for ceramic-doctype-model and ceramic-doctype-mid (run via `cargo xtask vectors`).
//
// For each model definition: the verdict of @ceramic-sdk/model-protocol 0.12.0's `ModelDefinition`
// codec and of js-ceramic's ModelHandler (5.4.0) on a genesis holding it. For each Model Instance
// Document case: the verdict of js-ceramic's ModelInstanceDocumentHandler (5.4.0) on a genesis and
// on a chain of updates, with the Models and related documents it loads served from memory.
// Signatures are not what these vectors test (the engine verifies them before a doctype runs), so
// SignatureUtils.verifyCommitSignature is replaced by a no-op; everything else is the handlers'
// own code.
//
// Usage: node gen.mjs <out_dir>   (writes <out_dir>/crates/doctype-model/testdata/js-models.json)

import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

import { ModelDefinition as SdkModelDefinition } from '@ceramic-sdk/model-protocol'
import { DocumentInitEventHeader } from '@ceramic-sdk/model-instance-protocol'
import { SignatureUtils } from '@ceramicnetwork/stream-handler-common'
import { Model } from '@ceramicnetwork/stream-model'
import { ModelHandler } from '@ceramicnetwork/stream-model-handler'
import { ModelInstanceDocumentHandler } from '@ceramicnetwork/stream-model-instance-handler'
import { StreamID, CommitID } from '@ceramicnetwork/streamid'
import * as dagCbor from '@ipld/dag-cbor'
import { isRight, validate } from 'codeco'
import { CID } from 'multiformats/cid'
import { sha256 } from 'multiformats/hashes/sha2'

SignatureUtils.verifyCommitSignature = async () => {}

const outDir = process.argv[2]
if (!outDir) throw new Error('usage: node gen.mjs <out_dir>')

const ALICE = 'did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK'

async function cidOf(value) {
  const bytes = dagCbor.encode(value)
  return CID.createV1(dagCbor.code, await sha256.digest(bytes))
}

function errorText(e) {
  if (e instanceof AggregateError) return `${e.message}: ${e.errors.map(errorText).join('; ')}`
  return String(e?.message ?? e)
}

const objectSchema = (properties, required = [], extra = {}) => ({
  type: 'object',
  properties,
  required,
  additionalProperties: false,
  ...extra,
})

const personSchema = objectSchema(
  { name: { type: 'string', maxLength: 50 }, age: { type: 'integer', minimum: 0 }, tag: { type: 'string' } },
  ['name']
)

const v2 = (extra = {}) => ({
  version: '2.0',
  name: 'Person',
  interface: false,
  implements: [],
  schema: personSchema,
  accountRelation: { type: 'list' },
  ...extra,
})

const v1 = (extra = {}) => ({
  version: '1.0',
  name: 'Old',
  schema: personSchema,
  accountRelation: { type: 'list' },
  ...extra,
})

const SOME_MODEL = 'kjzl6hvfrbw6c5ajfmes842lu09vjxu5956e3xq0xk12gp2jcf9s90cagt2god9'

// [name, definition]: valid definitions and one per rule broken.
const definitionCases = [
  ['v1 list', v1()],
  ['v1 single with relations and views', v1({
    accountRelation: { type: 'single' },
    relations: { owner: { type: 'account' }, linked: { type: 'document', model: SOME_MODEL } },
    views: { author: { type: 'documentAccount' }, version: { type: 'documentVersion' },
      linkedDoc: { type: 'relationDocument', model: SOME_MODEL, property: 'linked' } },
  })],
  ['v2 list', v2()],
  ['v2 with description and immutable fields', v2({ description: 'people', immutableFields: ['name'] })],
  ['v2 single', v2({ accountRelation: { type: 'single' } })],
  ['v2 none', v2({ accountRelation: { type: 'none' } })],
  ['v2 set', v2({ accountRelation: { type: 'set', fields: ['name'] } })],
  ['v2 document relation to any model', v2({ relations: { tag: { type: 'document', model: null } } })],
  ['v2 relation views', v2({ views: {
    from: { type: 'relationFrom', model: SOME_MODEL, property: 'x' },
    count: { type: 'relationCountFrom', model: SOME_MODEL, property: 'x' },
    set: { type: 'relationSetFrom', model: SOME_MODEL, property: 'x' },
    doc: { type: 'relationDocument', model: null, property: 'x' },
  } })],
  ['v2 interface with properties', v2({ interface: true })],
  ['v2 interface with only a view', v2({ interface: true, schema: objectSchema({}), views: { a: { type: 'documentAccount' } } })],
  ['formats and refs', v2({ schema: objectSchema(
    { at: { type: 'string', format: 'date-time' }, mail: { type: 'string', format: 'email' }, n: { $ref: '#/$defs/N' } },
    [], { $defs: { N: { type: 'integer' } } }) })],
  ['set field through a ref', v2({
    schema: objectSchema({ n: { $ref: '#/$defs/N' } }, ['n'], { $defs: { N: { type: 'string' } } }),
    accountRelation: { type: 'set', fields: ['n'] },
  })],
  // refused
  ['not an object', 'model'],
  ['unknown key', v2({ extra: true })],
  ['unsupported version', v2({ version: '3.0' })],
  ['version as a number', v2({ version: 2 })],
  ['missing name', (() => { const d = v2(); delete d.name; return d })()],
  ['missing schema', (() => { const d = v2(); delete d.schema; return d })()],
  ['missing accountRelation', (() => { const d = v2(); delete d.accountRelation; return d })()],
  ['v2 missing interface', (() => { const d = v2(); delete d.interface; return d })()],
  ['v2 missing implements', (() => { const d = v2(); delete d.implements; return d })()],
  ['name not a string', v2({ name: 7 })],
  ['v1 set relation', v1({ accountRelation: { type: 'set', fields: ['name'] } })],
  ['v1 none relation', v1({ accountRelation: { type: 'none' } })],
  ['unknown account relation', v2({ accountRelation: { type: 'many' } })],
  ['account relation with extra key', v2({ accountRelation: { type: 'list', x: 1 } })],
  ['set without fields', v2({ accountRelation: { type: 'set' } })],
  ['set with no field', v2({ accountRelation: { type: 'set', fields: [] } })],
  ['set field not in schema', v2({ accountRelation: { type: 'set', fields: ['nope'] } })],
  ['set field not required', v2({ accountRelation: { type: 'set', fields: ['age'] } })],
  ['set field of type array', v2({
    schema: objectSchema({ a: { type: 'array', items: { type: 'string' } } }, ['a']),
    accountRelation: { type: 'set', fields: ['a'] },
  })],
  ['schema not an object schema', v2({ schema: { type: 'string' } })],
  ['schema breaks the meta-schema', v2({ schema: { ...personSchema, required: 'name' } })],
  ['schema allows additional properties', v2({ schema: { type: 'object', properties: {} } })],
  ['nested object allows additional properties', v2({ schema: objectSchema({ o: { type: 'object', properties: {} } }) })],
  ['relation with unknown type', v2({ relations: { x: { type: 'friend' } } })],
  ['document relation without model', v2({ relations: { x: { type: 'document' } } })],
  ['v1 document relation to any model', v1({ relations: { x: { type: 'document', model: null } } })],
  ['document relation model not a StreamID', v2({ relations: { x: { type: 'document', model: 'nope' } } })],
  ['view with unknown type', v2({ views: { x: { type: 'documentSize' } } })],
  ['view shadows a property', v2({ views: { name: { type: 'documentAccount' } } })],
  ['v1 relationSetFrom view', v1({ views: { s: { type: 'relationSetFrom', model: SOME_MODEL, property: 'x' } } })],
  ['implements not a StreamID', v2({ implements: ['nope'] })],
  ['empty interface', v2({ interface: true, schema: objectSchema({}) })],
  ['immutableFields not strings', v2({ immutableFields: [1] })],
]

function sdkVerdict(definition) {
  try {
    return isRight(validate(SdkModelDefinition, definition))
  } catch {
    return false
  }
}

async function modelGenesis(definition) {
  const header = { controllers: [ALICE], model: Model.MODEL.bytes, sep: 'model' }
  const commit = { header, data: definition }
  const cid = await cidOf({ header, data: definition })
  return { cid, commit, envelope: {}, timestamp: undefined }
}

const modelHandler = new ModelHandler()
const noContext = { loadStream: async (id) => { throw new Error(`no stream ${id}`) }, signer: {} }

const definitions = []
for (const [name, definition] of definitionCases) {
  let handler = true
  let error = null
  try {
    await modelHandler.applyCommit(await modelGenesis(definition), noContext)
  } catch (e) {
    handler = false
    error = errorText(e)
  }
  definitions.push({ name, definition, sdk: sdkVerdict(definition), handler, error })
}

// ---- Model Instance Documents ----

/** A stored Model as the MID handler loads it. */
async function makeModel(definition) {
  const genesis = await modelGenesis(definition)
  const id = new StreamID(Model.STREAM_TYPE_ID, genesis.cid)
  return { id, commitId: CommitID.make(id, genesis.cid), content: definition, metadata: {} }
}

const models = {
  list: v2({ immutableFields: ['tag'] }),
  single: v2({ accountRelation: { type: 'single' } }),
  set: v2({ accountRelation: { type: 'set', fields: ['name', 'age'] },
    schema: objectSchema({ name: { type: 'string' }, age: { type: 'integer' }, tag: { type: 'string' } }, ['name', 'age']) }),
  none: v2({ accountRelation: { type: 'none' } }),
  v1list: v1(),
  iface: v2({ interface: true, name: 'I' }),
  formats: v2({ schema: objectSchema({ name: { type: 'string' }, at: { type: 'string', format: 'date-time' },
    mail: { type: 'string', format: 'email' }, uri: { type: 'string', format: 'uri' } }, ['name']) }),
}
const loaded = {}
for (const [key, definition] of Object.entries(models)) loaded[key] = await makeModel(definition)
// Models with relations need the other models' ids.
models.linking = v2({
  name: 'Linking',
  schema: objectSchema({ name: { type: 'string' }, to: { type: 'string' }, any: { type: 'string' }, viaI: { type: 'string' } }, ['name']),
  relations: {
    to: { type: 'document', model: loaded.list.id.toString() },
    any: { type: 'document', model: null },
    viaI: { type: 'document', model: loaded.iface.id.toString() },
  },
})
loaded.linking = await makeModel(models.linking)
models.impl = v2({ name: 'Impl', implements: [loaded.iface.id.toString()] })
loaded.impl = await makeModel(models.impl)

const streams = new Map()
for (const m of Object.values(loaded)) streams.set(m.id.toString(), m)

const midHandler = new ModelInstanceDocumentHandler()
const midContext = {
  signer: {},
  loadStream: async (id) => {
    const found = streams.get(id.toString())
    if (!found) throw new Error(`stream ${id} not found`)
    return found
  },
}

/** Applies a genesis (and updates) with the real handler; returns [verdicts, state]. */
async function applyMid(header, data, updates = []) {
  const verdicts = []
  // The handler patches the genesis content in place (fast-json-patch mutates): keep the case's
  // own copy intact.
  const commit = data === undefined ? { header } : { header, data: structuredClone(data) }
  const cid = await cidOf(commit)
  let state
  try {
    state = await midHandler.applyCommit({ cid, commit, envelope: {}, timestamp: undefined }, midContext)
    verdicts.push({ ok: true })
  } catch (e) {
    verdicts.push({ ok: false, error: errorText(e) })
    return { verdicts, state: null, cid }
  }
  for (const update of updates) {
    const tip = state.log[state.log.length - 1].cid
    const payload = { id: cid, prev: tip, data: update.patch }
    if (update.header) payload.header = update.header
    const ucid = await cidOf(payload)
    try {
      // The handler updates the state in place; a refused update ends the chain.
      const next = await midHandler.applyCommit(
        { cid: ucid, commit: payload, envelope: {}, timestamp: undefined },
        midContext,
        state
      )
      state = next
      verdicts.push({ ok: true })
    } catch (e) {
      verdicts.push({ ok: false, error: errorText(e) })
      break
    }
  }
  return { verdicts, state, cid }
}

const UNIQUE = new Uint8Array(12).fill(7)
const header = (model, extra = {}) => ({ controllers: [ALICE], model: loaded[model].id.bytes, sep: 'model', ...extra })
const hex = (bytes) => Buffer.from(bytes).toString('hex')

// A stored document of each model the relation cases point to.
async function storeDoc(model, content) {
  const { state, cid } = await applyMid(header(model, { unique: UNIQUE }), content)
  const id = new StreamID(3, cid)
  streams.set(id.toString(), { id, metadata: { model: state.metadata.model }, content: state.content, state })
  return id.toString()
}
const listDoc = await storeDoc('list', { name: 'target' })
const noneDoc = await storeDoc('none', { name: 'other' })
const implDoc = await storeDoc('impl', { name: 'impl' })
const missingDoc = new StreamID(3, await cidOf('missing')).toString()

// [name, model, header extras, genesis data (undefined: absent), updates]
const midCases = [
  ['list genesis', 'list', { unique: UNIQUE }, { name: 'a' }, []],
  ['list genesis then updates', 'list', { unique: UNIQUE }, { name: 'a', tag: 't' }, [
    { patch: [{ op: 'replace', path: '/name', value: 'b' }] },
    { patch: [{ op: 'add', path: '/age', value: 3 }] },
    { patch: [], header: { shouldIndex: false } },
  ]],
  ['list content breaks the schema', 'list', { unique: UNIQUE }, { name: 3 }, []],
  ['list content with an extra property', 'list', { unique: UNIQUE }, { name: 'a', x: 1 }, []],
  ['list content missing a required property', 'list', { unique: UNIQUE }, { age: 1 }, []],
  ['list content too long a string', 'list', { unique: UNIQUE }, { name: 'x'.repeat(51) }, []],
  ['list without unique', 'list', {}, { name: 'a' }, []],
  ['list without content', 'list', { unique: UNIQUE }, undefined, []],
  ['list update breaks the schema', 'list', { unique: UNIQUE }, { name: 'a' }, [
    { patch: [{ op: 'replace', path: '/name', value: 1 }] },
  ]],
  ['list update of an immutable field', 'list', { unique: UNIQUE }, { name: 'a', tag: 't' }, [
    { patch: [{ op: 'replace', path: '/tag', value: 'u' }] },
  ]],
  ['list update adding an immutable field', 'list', { unique: UNIQUE }, { name: 'a' }, [
    { patch: [{ op: 'add', path: '/tag', value: 'u' }] },
  ]],
  ['list update changing the controller', 'list', { unique: UNIQUE }, { name: 'a' }, [
    { patch: [], header: { controllers: ['did:key:z6MkOther'] } },
  ]],
  ['v1 list genesis', 'v1list', { unique: UNIQUE }, { name: 'a' }, []],
  ['none genesis', 'none', {}, { name: 'a' }, []],
  ['single genesis then first content', 'single', {}, undefined, [
    { patch: [{ op: 'add', path: '/name', value: 'a' }] },
  ]],
  ['single genesis with content', 'single', {}, { name: 'a' }, []],
  ['single genesis with unique', 'single', { unique: UNIQUE }, undefined, []],
  ['set genesis then matching content', 'set', { unique: new TextEncoder().encode('a|3') }, undefined, [
    { patch: [{ op: 'add', path: '/name', value: 'a' }, { op: 'add', path: '/age', value: 3 }] },
    { patch: [{ op: 'add', path: '/tag', value: 'x' }] },
  ]],
  ['set content not matching unique', 'set', { unique: new TextEncoder().encode('a|3') }, undefined, [
    { patch: [{ op: 'add', path: '/name', value: 'b' }, { op: 'add', path: '/age', value: 3 }] },
  ]],
  ['set unique field changed later', 'set', { unique: new TextEncoder().encode('a|3') }, undefined, [
    { patch: [{ op: 'add', path: '/name', value: 'a' }, { op: 'add', path: '/age', value: 3 }] },
    { patch: [{ op: 'replace', path: '/age', value: 4 }] },
  ]],
  ['set without unique', 'set', {}, undefined, []],
  ['set genesis with content', 'set', { unique: new TextEncoder().encode('a|3') }, { name: 'a', age: 3 }, []],
  ['interface model', 'iface', { unique: UNIQUE }, { name: 'a' }, []],
  ['formats valid', 'formats', { unique: UNIQUE }, { name: 'a', at: '2024-01-02T03:04:05Z', mail: 'a@b.co', uri: 'https://x.org/p' }, []],
  ['format date-time invalid', 'formats', { unique: UNIQUE }, { name: 'a', at: 'yesterday' }, []],
  ['format email invalid', 'formats', { unique: UNIQUE }, { name: 'a', mail: 'nope' }, []],
  ['format uri invalid', 'formats', { unique: UNIQUE }, { name: 'a', uri: 'not a uri' }, []],
  ['relation to the right model', 'linking', { unique: UNIQUE }, { name: 'a', to: listDoc }, []],
  ['relation to any model', 'linking', { unique: UNIQUE }, { name: 'a', any: noneDoc }, []],
  ['relation through an implemented interface', 'linking', { unique: UNIQUE }, { name: 'a', viaI: implDoc }, []],
  ['relation to the wrong model', 'linking', { unique: UNIQUE }, { name: 'a', to: noneDoc }, []],
  ['relation to a document not implementing the interface', 'linking', { unique: UNIQUE }, { name: 'a', viaI: listDoc }, []],
  ['relation not a StreamID', 'linking', { unique: UNIQUE }, { name: 'a', to: 'nope' }, []],
  ['relation to a missing document', 'linking', { unique: UNIQUE }, { name: 'a', to: missingDoc }, []],
  ['relation set by an update to the wrong model', 'linking', { unique: UNIQUE }, { name: 'a' }, [
    { patch: [{ op: 'add', path: '/to', value: noneDoc }] },
  ]],
]

function sdkHeaderVerdict(h) {
  try {
    return isRight(validate(DocumentInitEventHeader, h))
  } catch {
    return false
  }
}

const instances = []
for (const [name, model, extra, data, updates] of midCases) {
  const h = header(model, extra)
  const { verdicts, state } = await applyMid(h, data, updates)
  const jsonHeader = { ...h, model: loaded[model].id.toString() }
  if (h.unique) jsonHeader.unique = hex(h.unique)
  instances.push({
    name,
    model,
    header: jsonHeader,
    data: data === undefined ? null : data,
    has_data: data !== undefined,
    updates,
    verdicts,
    sdk_header: sdkHeaderVerdict(h),
    final_content: state ? (state.next?.content ?? state.content) : null,
  })
}

const related = {
  [listDoc]: 'list',
  [noneDoc]: 'none',
  [implDoc]: 'impl',
}
const relatedContent = { [listDoc]: { name: 'target' }, [noneDoc]: { name: 'other' }, [implDoc]: { name: 'impl' } }

const out = {
  about:
    'Verdicts of @ceramic-sdk/model-protocol 0.12.0 (ModelDefinition codec) and js-ceramic ModelHandler / ModelInstanceDocumentHandler 5.4.0 (signatures stubbed); generated by xtask/js-models/gen.mjs',
  controller: ALICE,
  definitions,
  models,
  model_ids: Object.fromEntries(Object.entries(loaded).map(([k, m]) => [k, m.id.toString()])),
  related_documents: Object.entries(related).map(([id, model]) => ({ id, model, content: relatedContent[id] })),
  instances,
}

const dir = join(outDir, 'crates', 'doctype-model', 'testdata')
mkdirSync(dir, { recursive: true })
writeFileSync(join(dir, 'js-models.json'), JSON.stringify(out, null, 2) + '\n')
