// Drives the admin API's pins of a ceramic-rs node through the real @ceramicnetwork/http-client
// 6.4.0 (`ceramic.admin.pin.add/ls/rm`, which fetch a code and sign a compact JWS with the
// client's DID): creates a TileDocument, lists, pins, lists, unpins, and checks that a client
// whose DID is not an admin is refused. The node must have the did:key of the fixed seed
// 000102…1f as its only admin DID. Prints one JSON summary line; exits 1 on any mismatch.
//
//   node admin.mjs <node url>

import { CeramicClient } from '@ceramicnetwork/http-client'
import { TileDocument } from '@ceramicnetwork/stream-tile'
import { DID } from 'dids'
import { Ed25519Provider } from 'key-did-provider-ed25519'
import { getResolver } from 'key-did-resolver'

const ADMIN_SEED = Uint8Array.from({ length: 32 }, (_, i) => i)
const OTHER_SEED = Uint8Array.from({ length: 32 }, () => 1)

const failures = []
function check(what, actual, expected) {
  const [a, e] = [JSON.stringify(actual), JSON.stringify(expected)]
  if (a !== e) failures.push(`${what}: got ${a}, expected ${e}`)
}

async function client(url, seed) {
  const did = new DID({ provider: new Ed25519Provider(seed), resolver: getResolver() })
  await did.authenticate()
  const ceramic = new CeramicClient(url)
  ceramic.did = did
  return ceramic
}

async function list(ceramic, id) {
  const out = []
  for await (const pinned of await ceramic.admin.pin.ls(id)) out.push(String(pinned))
  return out
}

async function main() {
  const url = process.argv[2]
  if (!url) throw new Error('usage: node admin.mjs <node url>')
  const ceramic = await client(url, ADMIN_SEED)
  const doc = await TileDocument.create(ceramic, { pinned: 'maybe' }, { anchor: false })
  const id = doc.id.toString()

  check('no pins', await list(ceramic), [])
  await ceramic.admin.pin.add(doc.id, true)
  check('pinned', await list(ceramic), [id])
  check('pinned, by id', await list(ceramic, doc.id), [id])
  await ceramic.admin.pin.rm(doc.id)
  check('unpinned', await list(ceramic), [])

  const other = await client(url, OTHER_SEED)
  let refused = null
  try {
    await other.admin.pin.add(doc.id)
  } catch (e) {
    refused = String(e.message ?? e)
  }
  if (refused === null) failures.push('a non-admin DID pinned a stream')
  check('still unpinned', await list(ceramic), [])

  console.log(JSON.stringify({ streamId: id, admin: ceramic.did.id, refused, failures }))
  if (failures.length > 0) {
    for (const f of failures) console.error(f)
    process.exit(1)
  }
}

main().catch((e) => {
  console.error(e)
  process.exit(1)
})
