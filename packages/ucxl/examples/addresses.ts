import assert from 'node:assert/strict'
import {
  dhtKey,
  formatAddress,
  headKey,
  matchesAddress,
  parseAddress,
  parseRecordKey,
  UCXLAddressError,
  versionKey
} from '@chorus/ucxl'

const a = parseAddress('ucxl://agent001/backend_developer/project123/task456/decision') // legacy form
assert.equal(formatAddress(a), 'ucxl://agent001:backend_developer@project123:task456/*^/decision')
assert.deepEqual(a.temporal, { kind: 'latest' })
assert.equal(dhtKey(a), '/CHORUS/ucxl/FuLzesX5RpndpE9pjyIGYxflxWMc5YSQXOA0cErUmaw=')

assert.ok(matchesAddress('ucxl://any:backend_developer@project123:*/*^/**', a))

// The record key layout: the head holds the latest version, each version has its own key.
const digest = 'FuLzesX5RpndpE9pjyIGYxflxWMc5YSQXOA0cErUmaw='
assert.equal(headKey(digest), dhtKey(a))
assert.deepEqual(parseRecordKey(versionKey(digest, 3)), { digest, version: 3 })

assert.throws(
  () => parseAddress('ucxl://agent001:backend_developer@project123:task456/*^/../secrets'),
  (err) => UCXLAddressError.isInstance(err) && err.code === 'UCXL-400-INVALID_ADDRESS' && err.field === 'path'
)
