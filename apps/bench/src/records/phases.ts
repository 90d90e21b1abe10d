/**
 * The records bench's phases after the writes, on a running network of agent processes: reprovide
 * traffic over one interval, the refill of a wiped node, and the read-back of every record from
 * every agent; and the waits they share (mesh formed, writer idle).
 */
import { heldRecords, isIdle, repairTraffic, reprovideTraffic } from './metrics.js'
import { recordContent, runPool } from './pool.js'
import { type AgentProc, apiPort, dialAddress, socketBytes, socketTable } from './procs.js'
import type { RawBaseline, ReadCheck, RecordsRun } from './types.js'
import { lostRecordBytes, wipeDataDir } from './wipe.js'

const pause = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

export type Status = Record<string, unknown>
export const statusOf = async (a: AgentProc): Promise<Status> =>
  (await a.api<Status>('GET', '/v1/status')).body

export async function waitForMesh(agents: AgentProc[], want: number, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const counts = await Promise.all(
      agents.map(async (a) => {
        const n = (await statusOf(a).catch(() => ({}))) as {
          network?: { connectedPeers?: number; dht?: { routingTableSize?: number } }
        }
        return Math.min(n.network?.connectedPeers ?? 0, n.network?.dht?.routingTableSize ?? 0)
      })
    )
    if (counts.every((c) => c >= want)) return
    if (Date.now() > deadline)
      throw new Error(`the agents did not find each other (peers: ${counts.join(', ')})`)
    await pause(300)
  }
}

export async function waitIdle(status: () => Promise<Status>, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs
  let idleReads = 0
  while (Date.now() < deadline) {
    const s = await status().catch(() => undefined)
    idleReads = s != null && isIdle(s) ? idleReads + 1 : 0
    if (idleReads >= 2) return true
    await pause(100)
  }
  return false
}

/** Reprovide traffic of all nodes over one reprovide interval, beside per-key kad provides of what they hold. */
export async function measureReprovide(
  agents: AgentProc[],
  intervalMs: number,
  raw: RawBaseline | undefined,
  log: (line: string) => void,
  via: string
): Promise<RecordsRun['reprovide']> {
  const read = async () => Promise.all(agents.map(async (a) => statusOf(a)))
  const pids = agents.map((a) => a.child.pid!)
  const sentOnSockets = async (): Promise<number> =>
    [...(await socketBytes(pids, new Set(agents.map((a) => apiPort(a.info))))).values()].reduce(
      (sum, b) => sum + b.sent,
      0
    )
  const socketsBefore = await sentOnSockets()
  const before = await read()
  log(`records (${via}): observing reprovide traffic for one interval (${intervalMs / 1000} s)`)
  const t = performance.now()
  await pause(intervalMs)
  const after = await read()
  const socketsAfter = await sentOnSockets()
  const perProvide = raw?.messagesPerProvide ?? Number.NaN
  let messages = 0
  let bytes: number | undefined = 0
  let source = ''
  let operations = false
  for (const [i, s] of after.entries()) {
    const a = reprovideTraffic(s)
    const b = reprovideTraffic(before[i]!)
    source = a.source
    operations ||= a.operations
    const delta = Math.max(0, a.messages - b.messages)
    // a region's lookup counted at the messages of a whole kad provide (a lookup is part of one)
    const lookups = Math.max(0, (a.lookups ?? 0) - (b.lookups ?? 0))
    messages += (a.operations ? delta * perProvide : delta) + lookups * perProvide
    bytes = a.bytes == null || bytes == null ? undefined : bytes + Math.max(0, a.bytes - (b.bytes ?? 0))
  }
  const heldSum = after.reduce((s, st) => s + (heldRecords(st) ?? 0), 0)
  return {
    intervalMs,
    windowMs: performance.now() - t,
    heldKeys: heldSum,
    messages,
    bytes,
    source,
    operations,
    perKeyProvideMessages: heldSum * perProvide,
    socketBytesSent: Math.max(0, socketsAfter - socketsBefore)
  }
}

/** Wipes one node's data (its identity and team files kept), restarts it and times its refill. */
export async function measureRepair(
  agents: AgentProc[],
  index: number,
  /** The replication factor: which of the keys it lost it should hold again. */
  factor: number,
  startAgain: (a: AgentProc, bootstrap: string) => Promise<AgentProc>,
  timeoutMs: number,
  log: (line: string) => void,
  via: string
): Promise<RecordsRun['repair']> {
  const a = agents[index]!
  const heldBefore = heldRecords(await statusOf(a)) ?? 0
  await a.stop()
  const rule = { self: a.info.peerId, peers: agents.map((x) => x.info.peerId), factor }
  const lost = lostRecordBytes(a.dataDir, rule)
  // the refill's goal: the keys it should hold (a copy beyond the factor, a hedged push's spare,
  // is not brought back); what it held when its count is unknown
  const goal = Number.isFinite(lost.targetRecords) ? lost.targetRecords : heldBefore
  wipeDataDir(a.dataDir)
  const others = agents.filter((x) => x !== a)
  const sentBefore = (await Promise.all(others.map(statusOf))).map(repairTraffic)
  log(
    `records (${via}): ${a.name} wiped (${lost.records} records, ${lost.bytes} bytes; ${lost.targetRecords} records, ${lost.targetBytes} bytes it should hold); waiting for its refill`
  )
  const t = performance.now()
  const again = await startAgain(a, dialAddress(others[0]!.info))
  agents[index] = again
  let heldAfter = 0
  let socket: number | undefined
  const received = new Map<string, number>()
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    heldAfter = heldRecords(await statusOf(again).catch(() => ({}))) ?? 0
    // each socket's last figure is kept, so one that closed still counts what it carried
    const table = (await socketTable([again.child.pid!], new Set([apiPort(again.info)]))).get(
      again.child.pid!
    )
    for (const x of table ?? []) received.set(x.socket, Math.max(received.get(x.socket) ?? 0, x.received))
    if (table != null) socket = [...received.values()].reduce((s, x) => s + x, 0)
    if (heldAfter >= goal) break
    await pause(1000)
  }
  const ms = performance.now() - t
  const sentAfter = (await Promise.all(others.map(statusOf))).map(repairTraffic)
  const sent = sentAfter.reduce((s, x, i) => s + Math.max(0, x.bytes - sentBefore[i]!.bytes), 0)
  const msgs = sentAfter.reduce((s, x, i) => s + Math.max(0, x.messages - sentBefore[i]!.messages), 0)
  log(
    `records (${via}): ${a.name} holds ${heldAfter}/${goal} after ${(ms / 1000).toFixed(1)} s; ${sent} repair bytes sent to the network`
  )
  return {
    node: a.name,
    heldBefore,
    lostValues: lost.records,
    lostBytes: lost.bytes,
    lostSource: lost.source,
    targetValues: lost.targetRecords,
    targetBytes: lost.targetBytes,
    heldAfter,
    refilled: heldAfter >= goal,
    ms,
    sentBytes: sent,
    sentMessages: msgs,
    source: sentAfter[0]?.source ?? 'repairBytes',
    socketBytesReceived: socket
  }
}

/**
 * Every stored record read from every agent through its API (content compared): the agents in
 * parallel, `concurrency` reads in flight on each.
 */
export async function checkReadable(
  agents: AgentProc[],
  records: number,
  skip: Set<number>,
  address: (i: number) => string,
  recordBytes: number,
  concurrency: number,
  log: (line: string) => void,
  via: string
): Promise<ReadCheck> {
  log(
    `records (${via}): reading all ${records - skip.size} stored records from each of the ${agents.length} agents`
  )
  const t = performance.now()
  const results = await Promise.all(
    agents.map((a) =>
      runPool(records, concurrency, async (i) => {
        if (skip.has(i)) return
        const res = await a.api<{ content?: string; error?: { code?: string } }>(
          'GET',
          `/v1/content?address=${encodeURIComponent(address(i))}`
        )
        if (res.status !== 200) throw new Error(`HTTP ${res.status} ${res.body.error?.code ?? ''}`.trim())
        if (res.body.content !== recordContent(i, recordBytes)) throw new Error('content differs')
      })
    )
  )
  let ok = 0
  let failed = 0
  const errors: Record<string, number> = {}
  for (const [k, r] of results.entries()) {
    ok += r.ok - skip.size
    failed += r.failed
    for (const [msg, v] of Object.entries(r.errors)) errors[`${agents[k]!.name}: ${msg}`] = v
  }
  log(`records (${via}): ${ok} reads ok, ${failed} failed`)
  return { checked: ok + failed, ok, failed, errors, nodes: agents.length, ms: performance.now() - t }
}
