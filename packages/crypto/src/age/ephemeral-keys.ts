import { generateKeyPairSync, type KeyObject } from 'node:crypto'
import { MessageChannel, type MessagePort, receiveMessageOnPort, Worker } from 'node:worker_threads'
import { exportPublicRaw } from './x25519.js'

// age needs a fresh X25519 key pair for every recipient stanza. Generating one costs about half of
// a stanza's CPU time, yet it depends on nothing in the message, so a worker thread generates them
// ahead of time on another core and the encrypting thread only does the agreement. Each key is
// handed out once and then dropped; nothing is ever reused.
//
// The encrypting thread pulls finished batches with receiveMessageOnPort, synchronously: a caller
// that encrypts in a tight loop without yielding to the event loop still gets pre-generated keys.
// When the pool is empty (a burst, or the worker could not start) a key is generated inline, so the
// pool only ever makes encryption faster, never slower or blocked.

export interface EphemeralKey {
  readonly privateKey: KeyObject
  /** The raw 32-byte public key: the stanza's ephemeral share. */
  readonly share: Uint8Array
}

/** Where ephemeral keys come from. */
export interface EphemeralKeySource {
  take(): EphemeralKey
}

/** A pool of keys generated ahead of time on a worker thread. */
export interface PrecomputedEphemeralKeys extends EphemeralKeySource {
  /** How many keys came from the worker and how many were generated inline (pool empty). */
  stats(): { precomputed: number; inline: number; workerRunning: boolean }
  /** Stops the worker and drops the keys it holds; later takes generate keys inline. */
  close(): Promise<void>
}

export interface PrecomputedEphemeralKeysInit {
  /** Keys the worker generates per request. Default 64. */
  batchSize?: number
  /** Keys held or requested at most. Default 4 batches. */
  highWater?: number
}

/** Generates the key on the calling thread. */
export const inlineEphemeralKeys: EphemeralKeySource = {
  take() {
    const { privateKey, publicKey } = generateKeyPairSync('x25519')
    return { privateKey, share: exportPublicRaw(publicKey) }
  }
}

// Plain CommonJS for `eval: true`, so the worker needs no file of its own (nothing to resolve in
// bundles, test runners or TypeScript sources).
const WORKER_SOURCE = `
const { workerData } = require('node:worker_threads')
const { generateKeyPairSync } = require('node:crypto')
const port = workerData.port
let raw = true
const share = (publicKey) => {
  if (raw) {
    try { return publicKey.export({ format: 'raw-public' }) } catch { raw = false }
  }
  return Buffer.from(publicKey.export({ format: 'jwk' }).x, 'base64url')
}
port.on('message', (count) => {
  const batch = []
  for (let i = 0; i < count; i++) {
    const { privateKey, publicKey } = generateKeyPairSync('x25519')
    batch.push({ privateKey, share: share(publicKey) })
  }
  port.postMessage(batch)
})
`

class WorkerEphemeralKeys implements PrecomputedEphemeralKeys {
  readonly #batch: number
  readonly #highWater: number
  #ready: EphemeralKey[] = []
  #next = 0
  #requested = 0
  #port: MessagePort | undefined
  #worker: Worker | undefined
  #stopped = false
  #precomputed = 0
  #inline = 0

  constructor(init: PrecomputedEphemeralKeysInit) {
    this.#batch = Math.max(1, init.batchSize ?? 64)
    this.#highWater = Math.max(this.#batch, init.highWater ?? 4 * this.#batch)
  }

  stats() {
    return { precomputed: this.#precomputed, inline: this.#inline, workerRunning: this.#worker !== undefined }
  }

  async close(): Promise<void> {
    this.#stopped = true
    const worker = this.#worker
    this.#drop()
    await worker?.terminate()
  }

  #drop(): void {
    this.#worker = undefined
    this.#port?.close()
    this.#port = undefined
    this.#ready = []
    this.#next = 0
    this.#requested = 0
  }

  take(): EphemeralKey {
    if (this.#next === this.#ready.length) this.#refill()
    const key = this.#ready[this.#next]
    // Drop the pool's reference at once: a key leaves the pool exactly once.
    if (key !== undefined) this.#ready[this.#next++] = undefined as unknown as EphemeralKey
    this.#request()
    if (key === undefined) {
      this.#inline++
      return inlineEphemeralKeys.take()
    }
    this.#precomputed++
    return key
  }

  #refill(): void {
    const port = this.#port
    if (port === undefined) return
    const received = receiveMessageOnPort(port)
    if (received === undefined) return
    const batch = received.message as EphemeralKey[]
    this.#requested -= batch.length
    this.#ready = batch
    this.#next = 0
  }

  #request(): void {
    if (this.#stopped) return
    if (this.#port === undefined) this.#start()
    const held = this.#ready.length - this.#next + this.#requested
    if (this.#port !== undefined && held + this.#batch <= this.#highWater) {
      this.#requested += this.#batch
      this.#port.postMessage(this.#batch)
    }
  }

  #start(): void {
    try {
      const { port1, port2 } = new MessageChannel()
      const worker = new Worker(WORKER_SOURCE, {
        eval: true,
        workerData: { port: port2 },
        transferList: [port2],
        name: 'chorus-age-ephemeral-keys'
      })
      // Never keeps the process alive; if it dies, encryption goes on with inline keys.
      worker.unref()
      port1.unref()
      const fail = () => {
        if (this.#worker !== worker) return
        this.#stopped = true
        this.#drop()
      }
      worker.on('error', fail)
      worker.on('exit', fail)
      this.#worker = worker
      this.#port = port1
    } catch {
      this.#stopped = true
    }
  }
}

/**
 * A pool of ephemeral keys generated ahead of time on a worker thread, which starts on first use
 * and never keeps the process alive.
 */
export function createPrecomputedEphemeralKeys(
  init: PrecomputedEphemeralKeysInit = {}
): PrecomputedEphemeralKeys {
  return new WorkerEphemeralKeys(init)
}

let shared: PrecomputedEphemeralKeys | undefined

/** The process-wide pool that encryption uses by default. */
export function sharedEphemeralKeys(): PrecomputedEphemeralKeys {
  shared ??= createPrecomputedEphemeralKeys()
  return shared
}
