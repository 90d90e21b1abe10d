import { bytesEqual, waitAtMost } from '@chorus/common'
import type { DHT, Logger, NodeSigner, PutResult, ReceivedValue } from '@chorus/dht'
import { headKey, type ResolvedAddress, versionKey } from '../address.js'
import type { AuditInput } from '../audit.js'
import type { AuditedOperations } from '../audited.js'
import type { ContentCache } from '../cache.js'
import {
  DEFAULT_MAX_ENVELOPE_BYTES,
  ENVELOPE_FORMAT,
  type Envelope,
  isTombstone,
  sha256,
  signEnvelope,
  TOMBSTONE_KIND,
  type UnsignedEnvelope
} from '../envelope.js'
import {
  AccessDeniedError,
  ContentNotFoundError,
  ContentTooLargeError,
  StorageTimeoutError,
  WriteQuorumError
} from '../errors.js'
import type { IndexAccess } from '../local-state.js'
import { envelopeMetadata } from '../metadata.js'
import type { StorageCounters } from '../metrics.js'
import { withinLimit } from '../operation.js'
import type { CandidateSource } from '../read/candidate-source.js'
import type { WriteAuthority } from '../record-check.js'
import type { Tombstones } from '../tombstones.js'
import type { DeleteResult, StorageCrypto, StorageKeyring, StorageRoles, StoreResult } from '../types.js'
import type { VerifiedRecords } from '../verified-records.js'
import type { AddressLocks } from './address-locks.js'
import { kadPut, kadPutsUnlessPushed } from './kad-puts.js'
import type { QuorumPush } from './quorum-push.js'
import { type CheckedStore, checkStore, checkWriteRule } from './store-policy.js'

export interface WritePathComponents {
  dht: Pick<DHT, 'putValue' | 'provide'>
  crypto: Pick<StorageCrypto, 'encryptUCXLContent' | 'decryptableRoles'>
  roles: StorageRoles
  keyring: StorageKeyring
  signer: NodeSigner
  /** The team's write rule, run on each record before it is encrypted (team mode). */
  authority?: WriteAuthority
  /** Where this node vouches for the records it signs, so its own record store finds them verified. */
  verified?: Pick<VerifiedRecords, 'vouch'>
  /** This node's member certificate, read at each store; every envelope it writes carries it. */
  certificate?: () => Uint8Array | undefined
  local: IndexAccess
  /** This node's own copies of the head (`own`), verified (`verify`). */
  candidates: Pick<CandidateSource, 'own' | 'verify' | 'nearestConnected' | 'firstAnswer'>
  operations: Pick<AuditedOperations, 'run'>
  locks: Pick<AddressLocks, 'run'>
  quorum: Pick<QuorumPush, 'push'>
  /** The acknowledgements a store needs now. */
  requiredAcks(): number
  background: {
    readonly signal: AbortSignal
    taskSignal(): AbortSignal
    track<T>(task: Promise<T>): Promise<T>
    run(what: string, fn: (signal: AbortSignal) => Promise<unknown>): void
    room(signal: AbortSignal): Promise<void>
  }
  cache: Pick<ContentCache, 'put'>
  /** Where this node reports its own tombstones (the storage facade drops the address). */
  tombstones: Pick<Tombstones, 'observe'>
  metrics: StorageCounters
  logger?: Logger
}

export interface WritePathInit {
  maxContentBytes: number
  writeQuorum: number
  /** The target replication factor, reported as `replicationFactor`. */
  replicationFactor: number
  storeTimeout: number
  announceOnStore: boolean
  /** Ask the network for the head of an address this node has no record of (see `headsFromNetwork`). */
  headsFromNetwork?: boolean
}

/** The head this node knows of an address: version, envelope hash and author. */
export interface KnownHead {
  version: number
  hash: Uint8Array
  author: Uint8Array
  /** The head is a tombstone. */
  deleted: boolean
}

/**
 * A store: the policy check, one writer per address, encryption and signing of the next version,
 * this node's own record store, the direct push to the write quorum, and the kad-dht puts (in the
 * background once the quorum is met, awaited otherwise).
 */
export class WritePath {
  readonly #c: WritePathComponents
  readonly #init: WritePathInit

  constructor(components: WritePathComponents, init: WritePathInit) {
    this.#c = components
    this.#init = init
  }

  /** The audited `storeUCXLContent`. */
  store(
    address: string,
    content: Uint8Array | string,
    creatorRole: string,
    contentType: string,
    signal?: AbortSignal
  ): Promise<StoreResult> {
    const t0 = performance.now()
    const data = typeof content === 'string' ? new TextEncoder().encode(content) : content
    const entry: AuditInput = {
      op: 'store',
      role: String(creatorRole),
      address: String(address),
      contentType: String(contentType),
      size: data instanceof Uint8Array ? data.byteLength : undefined,
      success: false
    }
    return this.#c.operations.run(entry, { stampUpdate: true }, async () => {
      const r = checkStore(this.#c, this.#init, address, data, creatorRole, contentType)
      entry.address = r.base
      const certificate = checkWriteRule(this.#c, r, creatorRole)
      const result = await this.#c.locks.run(r.base, () =>
        withinLimit(
          {
            ms: this.#init.storeTimeout,
            operation: `store of ${r.base}`,
            signal,
            shutdown: this.#c.background.signal
          },
          (s) => this.storeVersion(r, { data, creatorRole, contentType, certificate }, s, signal)
        )
      )
      entry.version = result.version
      this.#c.metrics.storedItems++
      this.#c.metrics.storeTime += performance.now() - t0
      return result
    })
  }

  /** This node's knowledge of the current head: its index, else its own DHT record store. */
  async knownHead(r: ResolvedAddress, signal: AbortSignal): Promise<KnownHead | undefined> {
    const chain = this.#c.local.index.getChain(r.base)
    let best: KnownHead | undefined
    if (chain !== undefined) {
      best = {
        version: chain.highest,
        hash: Buffer.from(chain.highestHash, 'hex'),
        author: Buffer.from(chain.author, 'hex'),
        deleted: this.#c.local.index.getTombstone(r.base)?.version === chain.highest
      }
    }
    // A record this node holds for the head (replicated to it, or written before its index was
    // lost) that is newer than what the index knows.
    const key = headKey(r.digest)
    let local: ReceivedValue[] = []
    try {
      local = await this.#c.candidates.own(key, signal)
    } catch (err) {
      this.#c.logger?.debug({ err: (err as Error).message }, 'local head lookup failed')
    }
    // an index kept from before knows every version this node signed: only a new one asks
    const ask = this.#init.headsFromNetwork === true && this.#c.local.createdNow !== false
    if (best === undefined && local.length === 0 && ask) {
      local = await this.#networkHead(key, signal)
    }
    for (const c of this.#c.candidates.verify(key, local)) {
      if (best === undefined || c.envelope.version > best.version) {
        best = {
          version: c.envelope.version,
          hash: c.hash,
          author: c.envelope.author,
          deleted: isTombstone(c.envelope)
        }
      }
    }
    return best
  }

  /**
   * The head the connected peer nearest the address holds (stores push every version there), so a
   * node that lost its index does not sign a second version 1. No answer: the push refuses a fork.
   */
  async #networkHead(key: string, signal: AbortSignal): Promise<ReceivedValue[]> {
    const peers = this.#c.candidates.nearestConnected(key).slice(0, 1)
    if (peers.length === 0) return []
    return (await this.#c.candidates.firstAnswer(key, peers, signal)) ?? []
  }

  private async storeVersion(
    r: CheckedStore,
    what: { data: Uint8Array; creatorRole: string; contentType: string; certificate: Uint8Array | null },
    signal: AbortSignal,
    callerSignal: AbortSignal | undefined
  ): Promise<StoreResult> {
    const { crypto, signer } = this.#c
    const { data, creatorRole, contentType, certificate } = what
    await this.#c.background.room(signal)
    const prev = await this.knownHead(r, signal)
    if (prev !== undefined && !bytesEqual(prev.author, signer.publicKey)) {
      throw new AccessDeniedError(r.base, 'the address already has versions signed by another node key')
    }
    const ciphertext = await crypto.encryptUCXLContent(data, creatorRole)
    this.#c.metrics.encryptionOps++
    signal.throwIfAborted()
    const unsigned: UnsignedEnvelope = {
      format: ENVELOPE_FORMAT,
      address: r.base,
      version: (prev?.version ?? 0) + 1,
      metadata: {
        creatorRole,
        encryptedFor: crypto.decryptableRoles(creatorRole),
        contentType,
        timestamp: Date.now(),
        size: data.byteLength,
        ciphertextHash: sha256(ciphertext)
      },
      ciphertext,
      author: signer.publicKey,
      certificate,
      previous: prev?.hash ?? null
    }
    const { envelope, hash, peers } = await this.publish(r, unsigned, signal, callerSignal, () => {
      throw new ContentTooLargeError(data.byteLength, this.#init.maxContentBytes)
    })
    if (r.decision !== undefined) this.#c.local.index.addDecision(r.base, envelope.version, r.decision)
    const metadata = envelopeMetadata(r.parsed, envelope, hash, peers, this.#init.replicationFactor)
    // written here, not opened by a key: cached while this node holds a key of the role
    this.#c.cache.put(r.base, data, metadata, true, { role: creatorRole })
    return { ...metadata, acks: peers.length }
  }

  /**
   * The audited `deleteUCXLContent`: the same policy and write rule as a store, then the next
   * version of the chain as a signed tombstone, through the same quorum push and kad puts.
   */
  delete(
    address: string,
    creatorRole: string,
    purgeVersions: boolean,
    signal?: AbortSignal
  ): Promise<DeleteResult> {
    const entry: AuditInput = {
      op: 'delete',
      role: String(creatorRole),
      address: String(address),
      success: false
    }
    return this.#c.operations.run(entry, { stampUpdate: true }, async () => {
      const r = checkStore(this.#c, this.#init, address, new Uint8Array(0), creatorRole, TOMBSTONE_KIND)
      entry.address = r.base
      const certificate = checkWriteRule(this.#c, r, creatorRole)
      const result = await this.#c.locks.run(r.base, () =>
        withinLimit(
          {
            ms: this.#init.storeTimeout,
            operation: `delete of ${r.base}`,
            signal,
            shutdown: this.#c.background.signal
          },
          (s) => this.deleteVersion(r, { creatorRole, certificate, purgeVersions }, s, signal)
        )
      )
      entry.version = result.version
      return result
    })
  }

  private async deleteVersion(
    r: ResolvedAddress,
    what: { creatorRole: string; certificate: Uint8Array | null; purgeVersions: boolean },
    signal: AbortSignal,
    callerSignal: AbortSignal | undefined
  ): Promise<DeleteResult> {
    const { crypto, signer } = this.#c
    await this.#c.background.room(signal)
    const prev = await this.knownHead(r, signal)
    if (prev === undefined) throw new ContentNotFoundError(r.base)
    if (!bytesEqual(prev.author, signer.publicKey)) {
      throw new AccessDeniedError(r.base, 'the address has versions signed by another node key')
    }
    if (prev.deleted) throw new ContentNotFoundError(r.base, `already deleted at version ${prev.version}`)
    const empty = new Uint8Array(0)
    const unsigned: UnsignedEnvelope = {
      format: ENVELOPE_FORMAT,
      address: r.base,
      version: prev.version + 1,
      metadata: {
        creatorRole: what.creatorRole,
        encryptedFor: crypto.decryptableRoles(what.creatorRole),
        contentType: this.#c.local.index.getVersion(r.base, prev.version)?.content_type ?? TOMBSTONE_KIND,
        timestamp: Date.now(),
        size: 0,
        ciphertextHash: sha256(empty)
      },
      ciphertext: empty,
      author: signer.publicKey,
      certificate: what.certificate,
      previous: prev.hash,
      kind: TOMBSTONE_KIND,
      purgeVersions: what.purgeVersions
    }
    const { envelope, peers } = await this.publish(r, unsigned, signal, callerSignal, () => {
      throw new ContentTooLargeError(0, this.#init.maxContentBytes)
    })
    // this node learns of its own tombstone as every other node does
    this.#c.tombstones.observe({ envelope, digest: r.digest })
    return {
      address: r.base,
      version: envelope.version,
      deleted: true,
      purgeVersions: what.purgeVersions,
      acks: peers.length
    }
  }

  /**
   * Signs the next version, writes it to this node's record store, pushes it to the quorum, starts
   * the kad puts, and indexes it once the quorum holds.
   */
  private async publish(
    r: ResolvedAddress,
    unsigned: UnsignedEnvelope,
    signal: AbortSignal,
    callerSignal: AbortSignal | undefined,
    tooLarge: () => never
  ): Promise<{ envelope: Envelope; hash: Uint8Array; peers: string[] }> {
    const { dht } = this.#c
    const { envelope, bytes, hash } = await signEnvelope(unsigned, this.#c.signer, { signal })
    if (bytes.byteLength > DEFAULT_MAX_ENVELOPE_BYTES) tooLarge()
    this.#c.verified?.vouch(bytes, envelope)
    const required = this.#c.requiredAcks()
    const vkey = versionKey(r.digest, envelope.version)
    const hkey = headKey(r.digest)
    // Own record store first (readers asking it find it), then the direct push to the nearest
    // connected peers (the quorum in a few round trips); kad puts, when needed, start after it.
    await Promise.all([
      dht.putValue(vkey, bytes, { localOnly: true, signal }),
      dht.putValue(hkey, bytes, { localOnly: true, signal })
    ])
    const pushed = await this.#c.quorum.push(
      hkey,
      [
        { key: vkey, value: bytes },
        { key: hkey, value: bytes }
      ],
      required,
      // the peers a kad put would target first (see kadPutsUnlessPushed), and no more: a copy on a
      // spare peer beyond them is one more record to validate, store and later drop
      Math.max(required, this.#init.replicationFactor)
    )
    const direct = pushed.peers
    let peers = direct
    if (direct.length >= required) {
      // Quorum met: kad puts in the background (whenIdle() waits for them), only where the
      // direct push did not already put the records on the nearest peers.
      kadPutsUnlessPushed(
        this.#c,
        pushed,
        { required, nearest: this.#init.replicationFactor },
        { vkey, hkey },
        bytes
      )
    } else {
      // Quorum not met: the kad puts resolve at the quorum and the store waits for them; each
      // path counts (a kad put that failed still leaves the direct acks).
      const kadPuts = [this.put(vkey, bytes, required, required), this.put(hkey, bytes, required, required)]
      for (const p of kadPuts) p.catch(() => undefined)
      const { storeTimeout } = this.#init
      const [vres, hres] = await waitAtMost(
        Promise.allSettled(kadPuts),
        storeTimeout,
        () => new StorageTimeoutError(`store of ${r.base}`, storeTimeout),
        callerSignal
      )
      const acked = (x: PromiseSettledResult<PutResult> | undefined): string[] =>
        x?.status === 'fulfilled' ? x.value.acks : []
      const both = acked(vres).filter((p) => acked(hres).includes(p))
      peers = [...new Set([...direct, ...both])]
    }
    const acks = peers.length
    if (acks < required) throw new WriteQuorumError(r.base, acks, required)
    await this.#c.local.index.add(r.parsed, r.digest, envelope, bytes, hash, 'stored')
    if (this.#init.announceOnStore) {
      this.#c.background.run('announce after store', (s) => dht.provide(hkey, { signal: s }))
    }
    return { envelope, hash, peers }
  }

  /** Puts one record; resolves at `minAcks` acknowledgements while the rest go on in the background. */
  private put(key: string, bytes: Uint8Array, required: number, minAcks?: number): Promise<PutResult> {
    return kadPut(this.#c, key, bytes, required, { minAcks })
  }
}
