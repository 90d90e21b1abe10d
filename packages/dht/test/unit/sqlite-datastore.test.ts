import { mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { LevelDatastore } from 'datastore-level'
import { Key } from 'interface-datastore'
import { afterEach, describe, expect, it } from 'vitest'
import { DATASTORE_FILE, migrateLevelDB, SqliteDatastore } from '../../src/libp2p/sqlite-datastore.js'

// The node's datastore over node:sqlite: the datastore contract kad-dht and the peer store use
// (reads, misses, prefix queries, batches), its group commit, its lock, and the move from LevelDB.
const dirs: string[] = []
const stores: SqliteDatastore[] = []
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'chorus-sqlite-ds-'))
  dirs.push(dir)
  return dir
}
async function open(dir = tempDir()): Promise<SqliteDatastore> {
  const store = new SqliteDatastore(join(dir, DATASTORE_FILE))
  await store.open()
  stores.push(store)
  return store
}
const bytes = (...b: number[]) => new Uint8Array(b)
async function all<T>(it: AsyncIterable<T> | Iterable<T>): Promise<T[]> {
  const out: T[] = []
  for await (const x of it) out.push(x)
  return out
}
const keysOf = async (it: AsyncIterable<{ key: Key }> | Iterable<{ key: Key }>) =>
  (await all(it)).map((p) => p.key.toString())

afterEach(async () => {
  for (const s of stores.splice(0)) await s.close()
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true })
})

describe('SqliteDatastore', () => {
  it('puts, gets, has and deletes; a miss is a NotFoundError, as kad-dht expects', async () => {
    const s = await open()
    const k = new Key('/dht/record/abc')
    expect(await s.has(k)).toBe(false)
    await expect(s.get(k)).rejects.toMatchObject({ name: 'NotFoundError' })
    await s.put(k, bytes(1, 2, 3))
    expect(await s.has(k)).toBe(true)
    expect(await s.get(k)).toEqual(bytes(1, 2, 3))
    await s.put(k, bytes(4))
    expect(await s.get(k)).toEqual(bytes(4))
    await s.delete(k)
    expect(await s.has(k)).toBe(false)
    await s.delete(k)
    // the read our record store uses: a miss without an exception
    expect(await s.getIfPresent(k)).toBeUndefined()
    await s.put(k, bytes(5))
    expect(await s.getIfPresent(k)).toEqual(bytes(5))
  })

  it('queries by prefix only what starts with it, in key order, across pages', async () => {
    const s = await open()
    for (const k of ['/a', '/a/1', '/a/2', '/ab', '/a.', '/b/1', '/', '/a/\u00e9'])
      await s.put(new Key(k, false), bytes(1))
    expect(await keysOf(s.query({ prefix: '/a/' }))).toEqual(['/a/1', '/a/2', '/a/\u00e9'])
    expect(await keysOf(s.query({ prefix: '/a' }))).toEqual(['/a', '/a.', '/a/1', '/a/2', '/a/\u00e9', '/ab'])
    expect((await all(s.queryKeys({ prefix: '/b' }))).map(String)).toEqual(['/b/1'])
    expect(await keysOf(s.query({}))).toHaveLength(8)
    // more than a page (256 rows): every row once, in order
    const many = Array.from({ length: 700 }, (_, i) => `/dht/provider/${String(i).padStart(4, '0')}`)
    for (const k of many) await s.put(new Key(k), bytes(i8(k)))
    expect(await keysOf(s.query({ prefix: '/dht/provider/' }))).toEqual(many)
    expect((await all(s.queryKeys({ prefix: '/dht/provider/' }))).length).toBe(700)
    // filters, orders, offset and limit apply on top (datastore-core's query)
    const some = await keysOf(
      s.query({
        prefix: '/dht/provider/',
        filters: [(p) => p.key.toString().endsWith('7')],
        orders: [
          (a, b) => (a.key.toString() < b.key.toString() ? 1 : a.key.toString() > b.key.toString() ? -1 : 0)
        ],
        offset: 1,
        limit: 2
      })
    )
    expect(some).toEqual(['/dht/provider/0687', '/dht/provider/0677'])
  })

  it('sees writes made while a query pages through, without skipping or repeating a row', async () => {
    const s = await open()
    const keys = Array.from({ length: 600 }, (_, i) => `/q/${String(i).padStart(4, '0')}`)
    for (const k of keys) await s.put(new Key(k), bytes(1))
    const seen: string[] = []
    for await (const { key } of s.query({ prefix: '/q/' })) {
      seen.push(key.toString())
      // kad-dht's provider cleanup deletes what it walks
      await s.delete(key)
    }
    expect(seen).toEqual(keys)
    expect(await keysOf(s.query({ prefix: '/q/' }))).toEqual([])
  })

  it('commits a burst of writes at the end of the turn, and close commits what is pending', async () => {
    const dir = tempDir()
    const s = await open(dir)
    const batch = s.batch()
    for (let i = 0; i < 50; i++) batch.put(new Key(`/batch/${i}`), bytes(i))
    batch.delete(new Key('/batch/0'))
    await batch.commit()
    await s.put(new Key('/last'), bytes(9))
    await s.close()
    stores.splice(stores.indexOf(s), 1)
    const again = await open(dir)
    expect(await keysOf(again.query({ prefix: '/batch/' }))).toHaveLength(49)
    expect(await again.get(new Key('/last'))).toEqual(bytes(9))
  })

  it('counts the keys under a counted prefix as they are written, across a reopen, without a scan', async () => {
    const dir = tempDir()
    // keys written before the prefix was counted: counted once, when it opens with it
    const before = await open(dir)
    await before.put(new Key('/dht/record/a'), bytes(1))
    await before.put(new Key('/dht/provider/x'), bytes(1))
    await before.close()
    const path = join(dir, DATASTORE_FILE)
    const s = new SqliteDatastore(path, { countedPrefixes: ['/dht/record'] })
    await s.open()
    stores.push(s)
    expect(s.countKeys('/dht/record')).toBe(1)
    expect(s.countKeys('/dht/provider')).toBeUndefined()
    await Promise.all(['b', 'c', 'd'].map((k) => s.put(new Key(`/dht/record/${k}`), bytes(2))))
    // an overwrite is not a new key; neighbours of the prefix are not under it
    await s.put(new Key('/dht/record/b'), bytes(3))
    for (const k of ['/dht/records/z', '/dht/record0', '/dht/recor/d']) await s.put(new Key(k), bytes(4))
    expect(s.countKeys('/dht/record')).toBe(4)
    await s.delete(new Key('/dht/record/c'))
    await s.delete(new Key('/dht/record/nothing'))
    await s.delete(new Key('/dht/records/z'))
    expect(s.countKeys('/dht/record')).toBe(3)
    await s.close()
    const again = new SqliteDatastore(path, { countedPrefixes: ['/dht/record'] })
    await again.open()
    stores.push(again)
    expect(again.countKeys('/dht/record')).toBe(3)
    expect(await keysOf(again.query({ prefix: '/dht/record/' }))).toHaveLength(3)
    expect(() => new SqliteDatastore(path, { countedPrefixes: ["/x'; DROP TABLE kv; --"] })).toThrow(
      TypeError
    )
  })

  it('is not opened by a second node on the same data directory', async () => {
    const dir = tempDir()
    await open(dir)
    const second = new SqliteDatastore(join(dir, DATASTORE_FILE))
    // it waits a second for the lock, then fails: it never shares the file
    await expect(second.open()).rejects.toThrow(/locked/)
  })

  it('fails loudly when used before open', async () => {
    const s = new SqliteDatastore(join(tempDir(), DATASTORE_FILE))
    await expect(s.get(new Key('/x'))).rejects.toThrow('not open')
  })
})

describe('migrateLevelDB', () => {
  it('moves every entry of a LevelDB datastore left by an earlier version, then removes its files', async () => {
    const dir = tempDir()
    const level = new LevelDatastore(dir)
    await level.open()
    const entries = Array.from({ length: 2500 }, (_, i) => [`/dht/record/${i}`, bytes(i % 251, 7)] as const)
    for (const [k, v] of entries) await level.put(new Key(k), v)
    await level.put(new Key('/peers/p1'), bytes(1))
    await level.close()
    const s = await open(dir)
    expect(await migrateLevelDB(dir, s)).toBe(2501)
    expect(await s.get(new Key('/dht/record/2499'))).toEqual(bytes(2499 % 251, 7))
    expect(await keysOf(s.query({ prefix: '/dht/record/' }))).toHaveLength(2500)
    expect(readdirSync(dir).every((f) => f.startsWith(DATASTORE_FILE))).toBe(true)
    // nothing left to move the next time
    expect(await migrateLevelDB(dir, s)).toBe(0)
  })
})

function i8(k: string): number {
  return Number(k.slice(-3)) % 256
}
