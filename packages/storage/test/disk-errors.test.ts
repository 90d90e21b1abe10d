import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { createLocalDHT } from '@chorus/dht'
import { describe, expect, it } from 'vitest'
import { DataDirNotWritableError, diskError, InsufficientStorageError } from '../src/errors.js'
import { chorusRecordRules } from '../src/index.js'
import { startStorage, teamKeys } from './fixtures.js'
import { makeSigner, tempDir } from './helpers.js'

const errno = (code: string) => Object.assign(new Error(`${code}: failed`), { code })
const sqlite = (errcode: number, errstr: string) =>
  Object.assign(new Error(errstr), { code: 'ERR_SQLITE_ERROR', errcode, errstr })

describe('full and read-only disks', () => {
  it('maps errno and SQLite codes, also as a cause, to typed errors naming the data directory', () => {
    const full = diskError(errno('ENOSPC'), '/data')
    expect(full).toBeInstanceOf(InsufficientStorageError)
    expect(full).toMatchObject({ code: 'UCXL-507-INSUFFICIENT_STORAGE', dataDir: '/data' })
    expect(full?.message).toContain('/data')
    expect(diskError(sqlite(13, 'database or disk is full'), '/d')).toBeInstanceOf(InsufficientStorageError)
    expect(diskError(sqlite(13 | (3 << 8), 'full'), '/d')).toBeInstanceOf(InsufficientStorageError)
    expect(diskError(new Error('IO error: No space left on device'), '/d')).toBeInstanceOf(
      InsufficientStorageError
    )
    for (const e of [errno('EROFS'), errno('EACCES'), sqlite(8, 'attempt to write a readonly database')]) {
      const ro = diskError(e, '/data')
      expect(ro).toBeInstanceOf(DataDirNotWritableError)
      expect(ro).toMatchObject({ code: 'UCXL-500-DATA_DIR_NOT_WRITABLE', dataDir: '/data', cause: e })
    }
    expect(diskError(new Error('wrapped', { cause: errno('ENOSPC') }), '/d')).toBeInstanceOf(
      InsufficientStorageError
    )
    // cannot open the database: not writable only when starting
    expect(diskError(sqlite(14, 'unable to open database file'), '/d')).toBeUndefined()
    expect(diskError(sqlite(14, 'unable to open database file'), '/d', true)).toBeInstanceOf(
      DataDirNotWritableError
    )
    expect(diskError(new Error('something else'), '/d')).toBeUndefined()
    expect(diskError(errno('ENOENT'), '/d')).toBeUndefined()
  })

  it('starting where the index cannot be created is a DataDirNotWritableError, not a raw SQLite error', async () => {
    const tmp = tempDir()
    const dht = createLocalDHT({ dataDir: join(tmp.dir, 'dht'), records: chorusRecordRules() })
    await dht.start()
    try {
      // the index file's place is taken by a directory: SQLite cannot open or create it
      const dataDir = join(tmp.dir, 'storage')
      mkdirSync(join(dataDir, 'storage-index.sqlite'), { recursive: true })
      const err = await startStorage({
        dht,
        signer: makeSigner(),
        keys: teamKeys(),
        plays: ['backend_developer'],
        init: { dataDir, nodeId: 'n', writeQuorum: 0 }
      }).catch((e: unknown) => e)
      expect(err).toBeInstanceOf(DataDirNotWritableError)
      expect((err as DataDirNotWritableError).code).toBe('UCXL-500-DATA_DIR_NOT_WRITABLE')
      expect((err as Error).message).toContain(dataDir)
    } finally {
      await dht.close()
      tmp.remove()
    }
  })
})
