// A short tour of @chorus/ucxl, the main job until apps/node exists (`bash dev.sh demo`).
// Needs the built package: `pnpm --filter @chorus/ucxl build`.
import {
  addressDigest,
  dhtKey,
  formatAddress,
  matchesAddress,
  parseAddress,
  UCXLAddressError
} from '../packages/ucxl/dist/index.js'

const spellings = [
  'ucxl://agent001/backend_developer/project123/task456/decision', // the reference's legacy form
  'ucxl://agent001:backend_developer@project123:task456/*^/decision', // canonical
  'UCXL://agent001:backend_developer@project123:task456/~~2//decision/' // two versions back, untidy
]

console.log('Parsing and normalising:')
for (const raw of spellings) {
  const address = parseAddress(raw)
  console.log(`  ${raw}\n    -> ${formatAddress(address)}  (temporal ${JSON.stringify(address.temporal)})`)
}

console.log('\nOne digest for every spelling and version (sha256 of the address without temporal):')
for (const raw of spellings) console.log(`  ${addressDigest(raw)}  ${raw}`)
console.log(`  DHT key: ${dhtKey(spellings[0])}`)

console.log('\nMatching:')
const pattern = 'ucxl://any:backend_developer@project123:*/*^/docs/**'
for (const raw of ['ucxl://agent007/backend_developer/project123/task9/docs/api/v2.md', spellings[0]]) {
  console.log(`  ${pattern}\n    ~ ${raw}: ${matchesAddress(pattern, raw)}`)
}

console.log('\nRejected:')
try {
  parseAddress('ucxl://agent001:backend_developer@project123:task456/*^/../secrets')
} catch (err) {
  if (!(err instanceof UCXLAddressError)) throw err
  console.log(`  ${err.code} field=${err.field}: ${err.reason}\n    input: ${err.input}`)
}
