/**
 * A small seeded PRNG (mulberry32): the same seed gives the same schedule, address choices and
 * operation mix on every machine, so a failing run can be repeated from its seed alone.
 */
export interface Random {
  /** The seed this generator started from. */
  readonly seed: number
  /** A float in [0, 1). */
  next(): number
  /** An integer in [min, max]. */
  int(min: number, max: number): number
  /** A float in [min, max). */
  between(min: number, max: number): number
  /** One element of a non-empty list. */
  pick<T>(items: readonly T[]): T
  /** A shuffled copy. */
  shuffle<T>(items: readonly T[]): T[]
  /** An independent generator derived from this one (for one client, one purpose). */
  fork(label: number): Random
}

/** A seed as the runner prints it: an unsigned 32-bit integer. */
export function normalizeSeed(seed: number): number {
  if (!Number.isFinite(seed)) throw new RangeError('seed must be a finite number')
  return Math.trunc(Math.abs(seed)) >>> 0
}

/** A fresh seed (for a random run; printed so it can be repeated). */
export function randomSeed(): number {
  return Math.floor(Math.random() * 0x1_0000_0000) >>> 0
}

export function createRandom(seed: number): Random {
  const start = normalizeSeed(seed)
  let state = start
  const next = (): number => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 0x1_0000_0000
  }
  const r: Random = {
    seed: start,
    next,
    int: (min, max) => min + Math.floor(next() * (max - min + 1)),
    between: (min, max) => min + next() * (max - min),
    pick: (items) => {
      if (items.length === 0) throw new RangeError('pick from an empty list')
      return items[Math.floor(next() * items.length)] as (typeof items)[number]
    },
    shuffle: (items) => {
      const out = [...items]
      for (let i = out.length - 1; i > 0; i--) {
        const j = Math.floor(next() * (i + 1))
        ;[out[i], out[j]] = [out[j] as (typeof out)[number], out[i] as (typeof out)[number]]
      }
      return out
    },
    fork: (label) =>
      createRandom((Math.imul(start ^ 0x9e3779b9, 31) + Math.imul(label + 1, 0x85ebca6b)) >>> 0)
  }
  return r
}
