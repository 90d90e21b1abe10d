/** A peer in the known-peer table, with what it tells about itself. */
export interface KnownPeer {
  id: string
  /** Multiaddrs as strings, possibly empty. */
  multiaddrs: string[]
  agentVersion: string
  /** Its role, `''` when it announced none. */
  role: string
  capabilities: string[]
  /** When it was last registered or refreshed (ms since epoch). */
  lastSeen: number
}

/** The known-peer table: role, capabilities and agent version by peer id, with a last-seen time. */
export class PeerTable {
  private readonly entries = new Map<string, KnownPeer>()

  get size(): number {
    return this.entries.size
  }

  get(id: string): KnownPeer | undefined {
    const e = this.entries.get(id)
    return e != null ? clone(e) : undefined
  }

  upsert(p: Omit<KnownPeer, 'lastSeen' | 'multiaddrs'> & { multiaddrs?: string[] }): KnownPeer {
    const prev = this.entries.get(p.id)
    const entry: KnownPeer = {
      id: p.id,
      multiaddrs:
        p.multiaddrs != null && p.multiaddrs.length > 0 ? [...p.multiaddrs] : (prev?.multiaddrs ?? []),
      agentVersion: p.agentVersion,
      role: p.role,
      capabilities: [...new Set(p.capabilities)],
      lastSeen: Date.now()
    }
    this.entries.set(p.id, entry)
    return clone(entry)
  }

  list(): KnownPeer[] {
    return [...this.entries.values()].map(clone)
  }

  /** Drops entries older than `ttl` ms whose peer is not connected; returns how many. */
  cleanup(ttl: number, connected: Set<string>, now = Date.now()): number {
    let removed = 0
    for (const [id, e] of this.entries) {
      if (connected.has(id)) {
        e.lastSeen = now
      } else if (now - e.lastSeen > ttl) {
        this.entries.delete(id)
        removed++
      }
    }
    return removed
  }
}

function clone(e: KnownPeer): KnownPeer {
  return { ...e, multiaddrs: [...e.multiaddrs], capabilities: [...e.capabilities] }
}
