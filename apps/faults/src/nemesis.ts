/** Plays a schedule against a target: each fault applied at its time and undone after its duration. */
import type { Fault, FaultKind, Schedule } from './schedule.js'
import type { FaultTarget } from './target.js'

export interface FaultEvent {
  kind: FaultKind
  /** ms since the run started. */
  start: number
  end?: number
  /** Not injected: the target cannot. */
  skipped?: boolean
  /** A restart's time to a ready API, ms. */
  restartMs?: number
  error?: string
  description: string
}

const sleepUntil = (t: number, clock: () => number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    const ms = Math.max(0, t - clock())
    const timer = setTimeout(done, ms)
    function done() {
      clearTimeout(timer)
      signal.removeEventListener('abort', done)
      resolve()
    }
    signal.addEventListener('abort', done, { once: true })
  })

function describe(f: Fault): string {
  switch (f.kind) {
    case 'partition':
      return `partition [${f.sides[0].join(',')}] | [${f.sides[1].join(',')}]`
    case 'loss':
      return `loss ${Math.round(f.probability * 100)} % on node ${f.node}`
    default:
      return `${f.kind} node ${f.node}`
  }
}

async function apply(target: FaultTarget, f: Fault): Promise<void> {
  switch (f.kind) {
    case 'partition':
      return target.partition(f.sides[0], f.sides[1])
    case 'loss':
      return target.setLoss(f.node, f.probability)
    case 'kill':
      return target.kill(f.node)
    case 'wipe':
      return target.wipe(f.node)
    case 'relay':
      return target.removeRelay(f.node)
  }
}

async function undo(target: FaultTarget, f: Fault): Promise<void> {
  switch (f.kind) {
    case 'partition':
      return target.heal()
    case 'loss':
      return target.setLoss(f.node, 0)
    case 'kill':
    case 'wipe':
      return target.restart(f.node)
    case 'relay':
      return target.restoreRelay(f.node)
  }
}

/** Runs the schedule; resolves with what happened once its last fault is undone. */
export async function playSchedule(
  schedule: Schedule,
  target: FaultTarget,
  clock: () => number,
  signal: AbortSignal,
  log: (line: string) => void
): Promise<FaultEvent[]> {
  const events: FaultEvent[] = []
  // a slow restart delays the rest of the schedule rather than shortening the next fault
  let delay = 0
  for (const f of schedule.faults) {
    await sleepUntil(f.at + delay, clock, signal)
    if (signal.aborted) break
    const start = clock()
    delay = Math.max(delay, start - f.at)
    const event: FaultEvent = { kind: f.kind, start, description: describe(f) }
    events.push(event)
    if (target.unsupported.has(f.kind)) {
      event.skipped = true
      log(`${(event.start / 1000).toFixed(1)}s skipped (unsupported here): ${event.description}`)
      continue
    }
    log(`${(event.start / 1000).toFixed(1)}s ${event.description}`)
    try {
      await apply(target, f)
    } catch (err) {
      event.error = (err as Error).message
    }
    await sleepUntil(start + f.durationMs, clock, signal)
    const t0 = clock()
    try {
      await undo(target, f)
    } catch (err) {
      event.error = `${event.error ?? ''}${(err as Error).message}`
    }
    event.end = clock()
    if (f.kind === 'kill' || f.kind === 'wipe') event.restartMs = Math.round(event.end - t0)
    log(
      `${(event.end / 1000).toFixed(1)}s end of ${event.description}${event.error ? ` (error: ${event.error})` : ''}`
    )
  }
  return events
}
