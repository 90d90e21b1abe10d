/**
 * The clients: each is bound to one node (its home), writes the addresses it owns there (a team
 * member may write only addresses of its own agent id) and reads any client's addresses through
 * it, one operation at a time, every operation recorded in the history. A client's session (its
 * Jepsen process) ends when its home node's process restarts; the next session gets a new process id.
 */
import { digestOf, type Outcome, readContent, writeContent } from './api.js'
import type { History, Op, OpKind } from './history.js'
import type { Random } from './prng.js'
import type { FaultTarget } from './target.js'

export interface WorkloadInit {
  clients: number
  /** Addresses each client owns. Default 2. */
  addressesPerClient?: number
  /** Share of writes among operations. Default 0.5. */
  writeShare?: number
  /** Pause between a client's operations, ms (drawn uniformly). Default 50 to 250. */
  minPauseMs?: number
  maxPauseMs?: number
  /** HTTP timeout of one operation (after it the outcome is unknown). Default 15 s. */
  timeoutMs?: number
  /** The agents' role (the address's role). */
  role: string
}

export interface Workload {
  /** Every address the clients write, `*^` form. */
  readonly addresses: string[]
  /** Runs until `signal` aborts; resolves when every client's last operation has completed. */
  run(signal: AbortSignal): Promise<void>
}

/** `ucxl://<agent>:<role>@faults:run/<temporal>/<path>` */
export function addressFor(agent: string, role: string, path: string, temporal = '*^'): string {
  return `ucxl://${agent}:${role}@faults:run/${temporal}/${path}`
}

/** The exact-version form of a `*^` address. */
export const atVersion = (address: string, version: number): string =>
  address.replace('/*^/', `/*~${version}/`)

export function createWorkload(
  init: WorkloadInit,
  target: FaultTarget,
  history: History,
  random: Random,
  clock: () => number
): Workload {
  const perClient = init.addressesPerClient ?? 2
  const home = (c: number) => c % target.nodes
  const owned = Array.from({ length: init.clients }, (_, c) =>
    Array.from({ length: perClient }, (_, k) =>
      addressFor(target.agentId?.(home(c)) ?? `n${home(c)}`, init.role, `c${c}-k${k}`)
    )
  )
  const addresses = owned.flat()
  const timeoutMs = init.timeoutMs ?? 15_000

  async function client(c: number, signal: AbortSignal): Promise<void> {
    const r = random.fork(c)
    const node = home(c)
    let session = 0
    let lastIncarnation = target.incarnation(node)
    let seq = 0
    while (!signal.aborted) {
      const incarnation = target.incarnation(node)
      if (incarnation !== lastIncarnation) {
        session++
        lastIncarnation = incarnation
      }
      const process = c * 1000 + session
      const kind: OpKind = r.next() < (init.writeShare ?? 0.5) ? 'write' : 'read'
      const address = kind === 'write' || r.next() < 0.5 ? r.pick(owned[c] as string[]) : r.pick(addresses)
      const content = kind === 'write' ? `client ${c} op ${seq++} ${r.int(0, 1e9)}` : undefined
      const base = { kind, process, client: c, node, incarnation, address }
      const invoke = history.add({
        ...base,
        type: 'invoke',
        time: clock(),
        ...(content !== undefined ? { digest: digestOf(content) } : {})
      })
      const ep = target.endpoint(node)
      let outcome: Outcome
      if (ep === undefined) outcome = { type: 'fail', error: 'node down' }
      else if (content !== undefined) outcome = await writeContent(ep, address, content, timeoutMs)
      else outcome = await readContent(ep, address, timeoutMs)
      complete(history, invoke, outcome, clock())
      await sleep(r.int(init.minPauseMs ?? 50, init.maxPauseMs ?? 250) + (ep === undefined ? 250 : 0))
    }
  }

  return {
    addresses,
    async run(signal) {
      await Promise.all(Array.from({ length: init.clients }, (_, c) => client(c, signal)))
    }
  }
}

/** Record the completion of `invoke`. */
export function complete(history: History, invoke: Op, outcome: Outcome, time: number): Op {
  const { index: _index, type: _type, time: _time, ...rest } = invoke
  return history.add({
    ...rest,
    type: outcome.type,
    time,
    invokeIndex: invoke.index,
    ...(outcome.type === 'ok'
      ? {
          ...(outcome.seen !== undefined ? { seen: outcome.seen } : {}),
          ...(outcome.digest !== undefined ? { digest: outcome.digest } : {})
        }
      : { error: outcome.error })
  })
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
