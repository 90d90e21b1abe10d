/**
 * The pusher: copies a value to peers over `/CHORUS/replicate/1.0.0`. Push targets are the DHT
 * servers this node is connected to, ordered by XOR distance to the key (peers known to be down
 * last); only when they are too few is the DHT asked for the key's closest peers, once. A DHT
 * client (a node behind NAT) is never a target: lookups cannot reach it, so a copy there does not
 * make the record readable.
 */
import { errorText, type Logger, timeoutSignal } from '@chorus/common'
import { type DHT, type PeerMessaging, sortByDistance } from '@chorus/dht'
import type { ReplicatedEvent, ReplicationPenalty } from './api.js'
import { BUSY_RETRIES, BusyPeers } from './busy-peers.js'
import { ReplicationProtocolError, ReplicationRefusedError } from './errors.js'
import type { ReplicationCounters } from './metrics.js'
import { valueDigest } from './proof.js'
import { decodeResponse, encodeRequest, MAX_RESPONSE_BYTES, type ReplicateResponse } from './protocol.js'

/** What the pusher needs of the liveness checks. */
export interface PushLiveness {
  /** Connected peer ids. */
  connected(): Set<string>
  /** Whether the last check (within the TTL) found the peer unreachable. */
  knownDown(peer: string): boolean
  /** Records a reachability observation. */
  note(peer: string, ok: boolean): void
}

export interface PusherComponents {
  messaging: Pick<PeerMessaging, 'peerId' | 'request'>
  dht: Pick<DHT, 'getClosestPeers'>
  liveness: PushLiveness
  /** Whether the peer is a DHT server (only servers are push targets). */
  isServer: (peer: string) => boolean
  /**
   * Records that a peer now holds the value of the key whose digest is given: it answered `ok`
   * to the push of exactly those bytes, which is its own statement that it holds them.
   */
  recordHolder: (key: string, peer: string, digest: Uint8Array) => void
  /** Reports an offence of a peer (an answer that does not decode). */
  penalise: (peer: string, reason: ReplicationPenalty) => void
  emitReplicated: (event: ReplicatedEvent) => void
  counters: Pick<
    ReplicationCounters,
    'repairMessages' | 'repairBytes' | 'failedReplications' | 'successfulReplications'
  >
  log: Logger
}

export interface PusherInit {
  /** The replicate protocol id. */
  protocol: string
  /** Time limit of one replicate request, in ms. */
  requestTimeout: number
}

/** The record pushed: key, value and content priority. */
export interface PushedRecord {
  key: string
  priority: number
}

export class Pusher {
  private readonly components: PusherComponents
  private readonly init: PusherInit
  private readonly busy = new BusyPeers()

  constructor(components: PusherComponents, init: PusherInit) {
    this.components = components
    this.init = init
  }

  /**
   * Pushes the value to up to `need` reachable non-holders, closest to the key first: as many at
   * once as are missing, each failed one replaced by the next candidate. Returns those that
   * accepted. Candidates are the connected peers (no network query per record; in a network where
   * every node is connected to every other, as kad-dht keeps small networks, they are exactly the
   * key's closest peers), then, when they are too few, the DHT's closest peers.
   */
  async pushToClosest(
    record: PushedRecord,
    value: Uint8Array,
    holders: Set<string>,
    need: number,
    signal: AbortSignal
  ): Promise<string[]> {
    const { liveness, log } = this.components
    const self = this.components.messaging.peerId
    const tried = new Set<string>([self, ...holders])
    // XOR order, but peers known to be down right now last (a stable sort keeps the XOR order)
    const order = (peers: Iterable<string>): string[] => {
      const down = (p: string): number => (liveness.knownDown(p) ? 1 : 0)
      return sortByDistance(
        record.key,
        [...new Set(peers)].filter((p) => !tried.has(p) && this.components.isServer(p))
      ).sort((a, b) => down(a) - down(b))
    }
    let candidates = order(liveness.connected())
    const digest = valueDigest(value)
    let queried = false
    const pushed: string[] = []
    while (pushed.length < need && !signal.aborted) {
      if (candidates.length < need - pushed.length && !queried) {
        queried = true
        candidates = order([...candidates, ...(await this.closestPeers(record.key, signal))])
      }
      if (candidates.length === 0) break
      const batch = candidates.splice(0, need - pushed.length)
      for (const p of batch) tried.add(p)
      // each receiver learns the holders known to hold it now (not the rest of its batch, which may fail)
      const known = [...new Set([self, ...holders, ...pushed])]
      const results = await Promise.allSettled(
        batch.map((peer) =>
          this.push(
            peer,
            record,
            value,
            signal,
            known.filter((h) => h !== peer),
            digest
          )
        )
      )
      results.forEach((r, i) => {
        if (r.status === 'fulfilled') pushed.push(batch[i]!)
        else
          log.debug({ key: record.key, peer: batch[i], err: errorText(r.reason) }, 'replication: push failed')
      })
    }
    return pushed
  }

  /**
   * One replicate request; resolves when the peer holds exactly this value, rejects with its
   * refusal (`STALE` when it holds one the pushed value does not succeed).
   */
  async push(
    peer: string,
    record: PushedRecord,
    value: Uint8Array,
    signal: AbortSignal,
    holders: string[] = [],
    digest: Uint8Array = valueDigest(value)
  ): Promise<void> {
    const body = encodeRequest({ key: record.key, value, priority: record.priority, holders })
    // a peer that answered BUSY is left alone until its back-off passed (the writer slows down)
    for (let attempt = 0; ; attempt++) {
      await this.busy.wait(peer, signal)
      try {
        return await this.send(peer, record, body, signal, digest)
      } catch (err) {
        if (!(ReplicationRefusedError.isInstance(err) && err.refusal === 'BUSY') || attempt >= BUSY_RETRIES)
          throw err
        this.busy.note(peer)
      }
    }
  }

  private async send(
    peer: string,
    record: PushedRecord,
    body: Uint8Array,
    signal: AbortSignal,
    digest: Uint8Array
  ): Promise<void> {
    const { counters, liveness } = this.components
    counters.repairMessages++
    counters.repairBytes += body.byteLength
    let raw: Uint8Array
    try {
      raw = await this.components.messaging.request(peer, this.init.protocol, body, {
        signal: timeoutSignal(this.init.requestTimeout, signal),
        maxResponseBytes: MAX_RESPONSE_BYTES
      })
    } catch (err) {
      counters.failedReplications++
      liveness.note(peer, false)
      throw err
    }
    let res: ReplicateResponse
    try {
      res = decodeResponse(raw)
    } catch (err) {
      counters.failedReplications++
      this.components.penalise(peer, 'invalid-message')
      throw new ReplicationProtocolError(peer, errorText(err), { cause: err })
    }
    liveness.note(peer, true)
    if (!res.ok) {
      // BUSY is not a failure: the push waits and is sent again
      if (res.code !== 'BUSY') counters.failedReplications++
      throw new ReplicationRefusedError(peer, record.key, res.code, res.reason)
    }
    counters.successfulReplications++
    this.components.recordHolder(record.key, peer, digest)
    this.components.emitReplicated({ key: record.key, peer })
  }

  /** The peers closest to the key as the DHT finds them; empty when the lookup fails. */
  private async closestPeers(key: string, signal: AbortSignal): Promise<string[]> {
    try {
      // no extra timeout here: on its own query timeout the DHT answers with what it found
      const peers = await this.components.dht.getClosestPeers(key, { limit: 20, signal })
      return peers.map((p) => p.id)
    } catch (err) {
      this.components.log.debug({ key, err: errorText(err) }, 'replication: closest-peer lookup failed')
      return []
    }
  }
}
