/**
 * A cluster of real nodes on 127.0.0.1 for the tests and the churn benchmark: each node is a
 * LibP2PDHT (TCP, ephemeral port) with a ReplicationManager, both on their own data directory,
 * so a node can be stopped and restarted with the same peer id, records and pins.
 */

import { createHash } from 'node:crypto'
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  createLibP2PDHT,
  EquivocationError,
  type LibP2PDHT,
  type RecordRules,
  StaleRecordError
} from '@chorus/dht'
import type { ReplicationComponents, ReplicationInit, ReplicationManager } from '../src/index.ts'

const MAGIC = new TextEncoder().encode('CHR1')

/** Checks a test record: it starts with `CHR1` and is at most 1 MiB. */
export function validateTestRecord(_key: Uint8Array, value: Uint8Array): void {
  if (value.byteLength > 1024 * 1024) throw new Error(`record is ${value.byteLength} bytes, more than 1 MiB`)
  for (let i = 0; i < MAGIC.length; i++) {
    if (value[i] !== MAGIC[i]) throw new Error('record does not start with the CHR1 magic')
  }
}

/** Prefers the lexicographically largest record (a version counter right after the magic orders them). */
export function selectTestRecord(_key: Uint8Array, records: Uint8Array[]): number {
  let best = 0
  for (let i = 1; i < records.length; i++) if (Buffer.compare(records[i]!, records[best]!) > 0) best = i
  return best
}

/** A test record: the magic, then the text. */
export function testRecord(text: string): Uint8Array {
  return new Uint8Array(Buffer.concat([Buffer.from(MAGIC), Buffer.from(text)]))
}

/**
 * A versioned test record, `CHR1v<version>:<author>:<body>`: a chain of versions by one author,
 * as storage's heads are (the author stands for the key that signs them).
 */
export function versionedRecord(author: string, version: number, body: string): Uint8Array {
  return testRecord(`v${version}:${author}:${body}`)
}

function parseVersioned(value: Uint8Array): { version: number; author: string } | undefined {
  const m = /^v(\d+):([^:]+):/.exec(Buffer.from(value.subarray(MAGIC.length)).toString('utf8'))
  return m == null ? undefined : { version: Number(m[1]), author: m[2]! }
}

/** The raw 32-byte key a test author stands for. */
export function testAuthorKey(author: string): Uint8Array {
  return new Uint8Array(createHash('sha256').update(author).digest())
}

/**
 * The succession rule of test records, simple but real: a versioned record succeeds the held one
 * only when it has the same author and a higher version; a lower version, or another author
 * (a key belongs to its first author), is stale; the same version with other bytes is
 * equivocation by its author. Records without versions go by the selector.
 */
export function successionTestRecord(key: Uint8Array, held: Uint8Array, incoming: Uint8Array): void {
  const k = new TextDecoder().decode(key)
  const h = parseVersioned(held)
  const i = parseVersioned(incoming)
  if (h == null || i == null) {
    if (selectTestRecord(key, [held, incoming]) === 0) throw new StaleRecordError(k)
    return
  }
  if (h.author !== i.author || i.version < h.version) throw new StaleRecordError(k)
  if (i.version === h.version && Buffer.compare(held, incoming) !== 0) {
    throw new EquivocationError(k, testAuthorKey(h.author))
  }
}

/** The record rules every node of the cluster runs for the `CHORUS` namespace. */
export const testRecords: RecordRules = {
  validators: { CHORUS: validateTestRecord },
  selectors: { CHORUS: selectTestRecord },
  succession: { CHORUS: successionTestRecord }
}

export type CreateManager = (components: ReplicationComponents, init: ReplicationInit) => ReplicationManager

export interface ClusterNode {
  index: number
  dir: string
  peerId: string
  dht: LibP2PDHT | undefined
  manager: ReplicationManager | undefined
}

export interface ClusterInit {
  size: number
  createManager: CreateManager
  /** Replication init for every node (dataDir is set per node). */
  replication: ReplicationInit
  /** Time limit of a DHT query and of one request, in ms. Defaults: 10000 and 3000. */
  queryTimeout?: number
  requestTimeout?: number
  /** Called on every manager right after it is created (to attach listeners). */
  onManager?: (node: ClusterNode, manager: ReplicationManager) => void
  /** Components of a node's manager besides the DHT and the test record rules (a reputation...). */
  components?: (dht: LibP2PDHT, index: number) => Partial<ReplicationComponents>
}

export class Cluster {
  readonly root: string
  readonly nodes: ClusterNode[] = []
  private readonly init: ClusterInit

  constructor(init: ClusterInit) {
    this.init = init
    this.root = mkdtempSync(join(tmpdir(), 'chorus-replication-'))
    for (let i = 0; i < init.size; i++) {
      const dir = join(this.root, `node-${i}`)
      mkdirSync(dir, { recursive: true })
      this.nodes.push({ index: i, dir, peerId: '', dht: undefined, manager: undefined })
    }
  }

  running(): ClusterNode[] {
    return this.nodes.filter((n) => n.dht != null)
  }

  /** Starts every node: node 0 first, the others joining through it. */
  async start(): Promise<void> {
    await this.startNode(0, [])
    const boot = this.nodes[0]!.dht!.multiaddrs
    await Promise.all(this.nodes.slice(1).map((n) => this.startNode(n.index, boot)))
    await this.waitForRoutingTables(30_000)
  }

  /** Starts (or restarts, on its data directory) one node, joining through `bootstrap` or any running node. */
  async startNode(index: number, bootstrap?: string[]): Promise<ClusterNode> {
    const node = this.nodes[index]!
    if (node.dht != null) return node
    const peers =
      bootstrap ??
      this.running()
        .slice(0, 3)
        .flatMap((n) => n.dht!.multiaddrs.slice(0, 1))
    const dht = await createLibP2PDHT({
      dataDir: join(node.dir, 'dht'),
      listen: ['/ip4/127.0.0.1/tcp/0'],
      mode: 'server',
      autoBootstrap: false,
      discoveryInterval: 0,
      records: testRecords,
      bootstrapPeers: peers,
      queryTimeout: this.init.queryTimeout ?? 10_000,
      requestTimeout: this.init.requestTimeout ?? 3_000
    })
    if (peers.length > 0) await dht.bootstrap()
    const manager = this.init.createManager(
      {
        dht,
        messaging: dht,
        validate: validateTestRecord,
        select: selectTestRecord,
        succession: successionTestRecord,
        ...this.init.components?.(dht, index)
      },
      { ...this.init.replication, dataDir: join(node.dir, 'replication') }
    )
    node.dht = dht
    node.peerId = dht.peerId
    node.manager = manager
    this.init.onManager?.(node, manager)
    await manager.start()
    return node
  }

  /** Stops one node's manager and DHT (its data directory stays). */
  async stopNode(index: number): Promise<void> {
    const node = this.nodes[index]!
    const { dht, manager } = node
    node.dht = undefined
    node.manager = undefined
    await manager?.stop()
    await dht?.close()
  }

  /** Waits until every running node knows every other running node, or at least one when time runs out. */
  async waitForRoutingTables(timeout: number): Promise<void> {
    const deadline = Date.now() + timeout
    while (Date.now() < deadline) {
      const nodes = this.running()
      const short = nodes.filter((n) => n.dht!.getDHTSize() < nodes.length - 1)
      if (short.length === 0) return
      await Promise.allSettled(
        short.map((n) => n.dht!.getClosestPeers(n.peerId, { signal: AbortSignal.timeout(2_000) }))
      )
      await new Promise((r) => setTimeout(r, 250))
    }
  }

  /** Stops every node and removes the data directories. */
  async destroy(): Promise<void> {
    await Promise.allSettled(this.nodes.map((n) => this.stopNode(n.index)))
    rmSync(this.root, { recursive: true, force: true })
  }

  /** Running nodes whose manager pins `key`. */
  holders(key: string): ClusterNode[] {
    return this.running().filter((n) => n.manager?.getPinnedValue(key) != null)
  }
}

/** Polls `check` every `interval` ms until it returns a value other than undefined, or throws after `timeout`. */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined> | T | undefined,
  timeout: number,
  interval = 250
): Promise<T> {
  const deadline = Date.now() + timeout
  let last: unknown
  while (Date.now() < deadline) {
    try {
      const v = await check()
      if (v !== undefined) return v
    } catch (err) {
      last = err
    }
    await new Promise((r) => setTimeout(r, interval))
  }
  throw new Error(
    `timed out after ${timeout} ms waiting for ${what}${last != null ? `: ${String(last)}` : ''}`
  )
}
