import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  createLibP2PDHT,
  createLocalDHT,
  type LibP2PDHT,
  type LibP2PDHTInit,
  type LocalDHT
} from '@chorus/dht'
import { permissiveRecords } from '@chorus/dht/testing'
import { createHybridDHT, type HybridDHT, type HybridDHTInit } from '../src/index.js'

export const enc = new TextEncoder()
export const dec = new TextDecoder()

/** Closes, in reverse order, everything a test started; removes its directories. */
export class Cleanup {
  readonly #closers: Array<() => Promise<void>> = []
  readonly #dirs: string[] = []

  dir(prefix: string): string {
    const d = mkdtempSync(join(tmpdir(), `hybrid-${prefix}-`))
    this.#dirs.push(d)
    return d
  }

  add<T extends { close(): Promise<void> }>(thing: T): T {
    this.#closers.push(() => thing.close())
    return thing
  }

  async run(): Promise<void> {
    for (const close of this.#closers.splice(0).reverse()) await close().catch(() => {})
    for (const d of this.#dirs.splice(0)) rmSync(d, { recursive: true, force: true })
  }
}

/** A plain network node (a peer) on 127.0.0.1 with the permissive test records. */
export async function peerNode(cleanup: Cleanup, init: Partial<LibP2PDHTInit> = {}): Promise<LibP2PDHT> {
  return cleanup.add(
    await createLibP2PDHT({
      listen: ['/ip4/127.0.0.1/tcp/0'],
      mode: 'server',
      autoBootstrap: false,
      discoveryInterval: 0,
      records: permissiveRecords,
      ...init
    })
  )
}

export interface HybridNode {
  primary: LibP2PDHT
  local: LocalDHT
  hybrid: HybridDHT
  /** Closes the hybrid and both backends, in that order (a node shutting down). */
  close(): Promise<void>
}

/** The node the app builds: LibP2PDHT + LocalDHT (same rules, same peer id) + HybridDHT, all in `dataDir`. */
export async function hybridNode(
  cleanup: Cleanup,
  dataDir: string,
  init: Partial<HybridDHTInit> = {},
  primaryInit: Partial<LibP2PDHTInit> = {}
): Promise<HybridNode> {
  const primary = await createLibP2PDHT({
    dataDir: join(dataDir, 'p2p'),
    listen: ['/ip4/127.0.0.1/tcp/0'],
    mode: 'server',
    autoBootstrap: false,
    discoveryInterval: 0,
    records: permissiveRecords,
    ...primaryInit
  })
  const local = createLocalDHT({
    dataDir: join(dataDir, 'local'),
    records: permissiveRecords,
    peerId: primary.peerId
  })
  const hybrid = createHybridDHT(
    { primary, fallback: local },
    {
      dataDir: join(dataDir, 'journal'),
      failureThreshold: 3,
      recoveryThreshold: 2,
      probeInterval: 300,
      operationTimeout: 15_000,
      ...init
    }
  )
  let closed = false
  const node: HybridNode = {
    primary,
    local,
    hybrid,
    async close() {
      if (closed) return
      closed = true
      await hybrid.close()
      await primary.close()
      await local.close()
    }
  }
  cleanup.add(node)
  return node
}

/** Polls `check` until it is true; throws with `what` after `timeout` ms. */
export async function waitFor(
  what: string,
  check: () => boolean | Promise<boolean>,
  timeout = 60_000
): Promise<void> {
  const deadline = Date.now() + timeout
  while (Date.now() < deadline) {
    if (await check()) return
    await new Promise((r) => setTimeout(r, 100))
  }
  throw new Error(`timed out after ${timeout} ms waiting for ${what}`)
}

/** Runs `fn` over `items` with at most `limit` in flight. */
export async function pool<T, R>(
  items: T[],
  limit: number,
  fn: (item: T, i: number) => Promise<R>
): Promise<R[]> {
  const out: R[] = new Array(items.length)
  let next = 0
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++
      out[i] = await fn(items[i] as T, i)
    }
  }
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker))
  return out
}

/** Connects a peer to the node and waits until both routing tables hold each other. */
export async function connect(peer: LibP2PDHT, to: LibP2PDHT): Promise<void> {
  await peer.bootstrap({ peers: to.multiaddrs })
  await waitFor('routing tables to fill', () => peer.getDHTSize() > 0 && to.getDHTSize() > 0, 20_000)
}
