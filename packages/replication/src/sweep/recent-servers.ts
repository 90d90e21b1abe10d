/**
 * The servers a sweep saw connected lately. One gone for less than the grace (a restart, a dropped
 * connection) keeps its place in a region's peer set, though nothing is sent to it: without it,
 * the next closest peer becomes a target the moment a holder restarts and is sent every record of
 * the region, copies beyond the factor once the holder is back. A holder gone for longer is a
 * departure, and its keys go to the next closest peers.
 */
export class RecentServers {
  readonly #graceMs: number
  /** When each server was last seen connected. */
  readonly #lastSeen = new Map<string, number>()

  constructor(graceMs: number) {
    this.#graceMs = Math.max(0, graceMs)
  }

  /**
   * Notes the servers connected at `now` and returns those seen within the grace that are not;
   * forgets the ones gone for longer (the map holds only servers seen within the grace).
   */
  away(connected: readonly string[], now: number = Date.now()): Set<string> {
    for (const p of connected) this.#lastSeen.set(p, now)
    const live = new Set(connected)
    const away = new Set<string>()
    for (const [p, at] of this.#lastSeen) {
      if (now - at > this.#graceMs) this.#lastSeen.delete(p)
      else if (!live.has(p)) away.add(p)
    }
    return away
  }
}
