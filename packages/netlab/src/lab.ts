/**
 * Why it is long: the lab's one class holds the topology (sites, NAT routers, nodes) and every
 * fault that changes it (partitions, loss, cuts), which all read the same address plan.
 *
 * The topology, every piece in a network namespace of its own (nothing touches the host's):
 *
 *   core router (`<p>-core`) ─┬─ site 1 bridge (`<p>-s1`) ─ nodes 10.77.1.10…   (public site)
 *                             ├─ NAT router (`<p>-nat2`, MASQUERADE) ─ site 2 bridge ─ nodes 10.77.2.10…
 *                             └─ …
 *
 * A public site's subnet is routed by the core; a NATed site's subnet exists only behind its NAT
 * router (transit 10.78.<site>.0/30), which lets replies in and nothing else. Addresses are
 * private and exist only inside the lab's namespaces. Faults are iptables rules in the nodes'
 * namespaces (chains NETLAB-PART, NETLAB-LOSS, NETLAB-CUT), on the side that sees the other's
 * real address.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { labUnavailableReason } from './available.js'
import { labPrefix, onProcessExit, removeLeftovers, removeNamespaceSync } from './cleanup.js'
import { iptables, run } from './command.js'
import { NETLAB_ERROR_CODES, NetlabError } from './errors.js'
import { type LabProcess, LabProcesses, type SpawnOptions } from './processes.js'

export interface LabSite {
  readonly name: string
  readonly index: number
  readonly nat: boolean
  /** The site's subnet, e.g. `10.77.2.0/24`. */
  readonly subnet: string
  /** The NAT router's outside address (what other sites see of this site's nodes); NATed only. */
  readonly natAddress?: string
}

export interface LabNode {
  readonly name: string
  readonly site: LabSite
  /** The node's network namespace. */
  readonly ns: string
  /** Its address on its site's subnet. */
  readonly address: string
  /** A name every node of the lab resolves (`/etc/hosts` inside the namespaces): `<name>.lab`. */
  readonly host: string
  /** A directory of its own (data, sockets, logs), removed with the lab. */
  readonly dir: string
}

export interface LabInit {
  /** Where the lab's directories go. Default: the OS temp dir. */
  tmpDir?: string
}

const CHAINS = { part: 'NETLAB-PART', loss: 'NETLAB-LOSS', cut: 'NETLAB-CUT' } as const
const NAME = /^[a-z][a-z0-9-]{0,19}$/
let labs = 0

/** Creates an empty lab (removing leftovers of labs whose process died first). */
export async function createLab(init: LabInit = {}): Promise<Lab> {
  const why = labUnavailableReason()
  if (why !== undefined) throw new NetlabError(why, { code: NETLAB_ERROR_CODES.UNAVAILABLE })
  removeLeftovers()
  const lab = new Lab(labPrefix(++labs), mkdtempSync(join(init.tmpDir ?? tmpdir(), 'netlab-')))
  try {
    await lab.init()
  } catch (err) {
    await lab.destroy()
    throw err
  }
  return lab
}

export class Lab {
  readonly prefix: string
  readonly dir: string
  readonly #sites = new Map<string, LabSite>()
  readonly #nodes = new Map<string, LabNode>()
  readonly #namespaces: string[] = []
  readonly #processes: LabProcesses
  /** node -> loss rules (target node or all, probability). */
  readonly #loss = new Map<string, Array<{ to?: string; p: number }>>()
  readonly #unhook: () => void
  #destroyed = false

  constructor(prefix: string, dir: string) {
    this.prefix = prefix
    this.dir = dir
    this.#processes = new LabProcesses()
    this.#unhook = onProcessExit(() => this.#destroySync())
  }

  get core(): string {
    return `${this.prefix}-core`
  }

  async init(): Promise<void> {
    await this.#addNamespace(this.core)
    await this.#forwarding(this.core)
  }

  sites(): LabSite[] {
    return [...this.#sites.values()]
  }

  nodes(): LabNode[] {
    return [...this.#nodes.values()]
  }

  node(name: string): LabNode {
    const n = this.#nodes.get(name)
    if (n == null) throw new NetlabError('no such node in the lab', { code: NETLAB_ERROR_CODES.INVALID })
    return n
  }

  /** Adds a site: a subnet on a bridge, routed by the core, or behind a NAT router when `nat`. */
  async addSite(name: string, options: { nat?: boolean } = {}): Promise<LabSite> {
    this.#alive()
    checkName(name)
    if (this.#sites.has(name)) throw new NetlabError('site exists', { code: NETLAB_ERROR_CODES.INVALID })
    const index = this.#sites.size + 1
    if (index > 60) throw new NetlabError('at most 60 sites', { code: NETLAB_ERROR_CODES.INVALID })
    const nat = options.nat === true
    const bridge = `${this.prefix}-s${index}`
    await this.#addNamespace(bridge)
    await run('ip', ['-n', bridge, 'link', 'add', 'br0', 'type', 'bridge'])
    await run('ip', ['-n', bridge, 'link', 'set', 'br0', 'up'])
    const gateway = `10.77.${index}.1`
    if (!nat) {
      await this.#veth(this.core, `s${index}`, bridge, 'uplink')
      await run('ip', ['-n', this.core, 'addr', 'add', `${gateway}/24`, 'dev', `s${index}`])
      await run('ip', ['-n', this.core, 'link', 'set', `s${index}`, 'up'])
    } else {
      const router = `${this.prefix}-nat${index}`
      await this.#addNamespace(router)
      await this.#forwarding(router)
      await this.#veth(this.core, `n${index}`, router, 'wan')
      await run('ip', ['-n', this.core, 'addr', 'add', `10.78.${index}.1/30`, 'dev', `n${index}`])
      await run('ip', ['-n', this.core, 'link', 'set', `n${index}`, 'up'])
      await run('ip', ['-n', router, 'addr', 'add', `10.78.${index}.2/30`, 'dev', 'wan'])
      await run('ip', ['-n', router, 'link', 'set', 'wan', 'up'])
      await run('ip', ['-n', router, 'route', 'add', 'default', 'via', `10.78.${index}.1`])
      await this.#veth(router, 'lan', bridge, 'uplink')
      await run('ip', ['-n', router, 'addr', 'add', `${gateway}/24`, 'dev', 'lan'])
      await run('ip', ['-n', router, 'link', 'set', 'lan', 'up'])
      // a home router: outbound connections are masqueraded, only their replies come back in
      await iptables(router, ['-t', 'nat', '-A', 'POSTROUTING', '-o', 'wan', '-j', 'MASQUERADE'])
      await iptables(router, [
        '-A',
        'FORWARD',
        '-i',
        'wan',
        '-o',
        'lan',
        '-m',
        'conntrack',
        '--ctstate',
        'ESTABLISHED,RELATED',
        '-j',
        'ACCEPT'
      ])
      await iptables(router, ['-A', 'FORWARD', '-i', 'wan', '-o', 'lan', '-j', 'DROP'])
    }
    await run('ip', ['-n', bridge, 'link', 'set', 'dev', 'uplink', 'master', 'br0'])
    await run('ip', ['-n', bridge, 'link', 'set', 'dev', 'uplink', 'up'])
    const site: LabSite = {
      name,
      index,
      nat,
      subnet: `10.77.${index}.0/24`,
      ...(nat ? { natAddress: `10.78.${index}.2` } : {})
    }
    this.#sites.set(name, site)
    return site
  }

  /** Adds a node (a namespace with one interface, `eth0`) to a site. */
  async addNode(siteName: string, name: string): Promise<LabNode> {
    this.#alive()
    checkName(name)
    const site = this.#sites.get(siteName)
    if (site == null) throw new NetlabError('no such site in the lab', { code: NETLAB_ERROR_CODES.INVALID })
    if (this.#nodes.has(name)) throw new NetlabError('node exists', { code: NETLAB_ERROR_CODES.INVALID })
    const k = [...this.#nodes.values()].filter((n) => n.site === site).length
    if (k > 200) throw new NetlabError('at most 200 nodes a site', { code: NETLAB_ERROR_CODES.INVALID })
    const ns = `${this.prefix}-${name}`
    const bridge = `${this.prefix}-s${site.index}`
    const address = `10.77.${site.index}.${10 + k}`
    await this.#addNamespace(ns)
    await this.#veth(bridge, `v${k}`, ns, 'eth0')
    await run('ip', ['-n', bridge, 'link', 'set', `v${k}`, 'master', 'br0'])
    await run('ip', ['-n', bridge, 'link', 'set', `v${k}`, 'up'])
    await run('ip', ['-n', ns, 'link', 'set', 'lo', 'up'])
    await run('ip', ['-n', ns, 'addr', 'add', `${address}/24`, 'dev', 'eth0'])
    await run('ip', ['-n', ns, 'link', 'set', 'eth0', 'up'])
    await run('ip', ['-n', ns, 'route', 'add', 'default', 'via', `10.77.${site.index}.1`])
    for (const chain of Object.values(CHAINS)) {
      await iptables(ns, ['-N', chain])
      await iptables(ns, ['-A', 'INPUT', '-j', chain])
      await iptables(ns, ['-A', 'OUTPUT', '-j', chain])
    }
    const dir = join(this.dir, name)
    mkdirSync(dir, { recursive: true })
    const node: LabNode = { name, site, ns, address, host: `${name}.lab`, dir }
    this.#nodes.set(name, node)
    return node
  }

  /**
   * The address `from` reaches `to` at: its own on the same site or a public one; undefined for a
   * NATed node of another site (it cannot be dialled; it is seen as its NAT router's address).
   */
  reachableAddress(from: string, to: string): string | undefined {
    const a = this.node(from)
    const b = this.node(to)
    return a.site === b.site || !b.site.nat ? b.address : undefined
  }

  /** Drops all traffic between every node of `a` and every node of `b` until `heal()`. */
  async partition(a: string[], b: string[]): Promise<void> {
    this.#alive()
    for (const x of a) {
      for (const y of b) {
        await this.#drop(x, y)
        await this.#drop(y, x)
      }
    }
  }

  /** Removes every partition. */
  async heal(): Promise<void> {
    this.#alive()
    for (const n of this.#nodes.values()) await iptables(n.ns, ['-F', CHAINS.part])
  }

  /**
   * Drops each packet `node` sends (to `to` only, when given) with probability `p` (0 removes it):
   * iptables' random drop (`-m statistic --mode random`), this kernel has no netem.
   */
  async setLoss(node: string, p: number, options: { to?: string } = {}): Promise<void> {
    this.#alive()
    if (!(p >= 0 && p <= 1))
      throw new NetlabError('loss must be within 0..1', { code: NETLAB_ERROR_CODES.INVALID })
    const n = this.node(node)
    if (options.to !== undefined) this.node(options.to)
    const rules = (this.#loss.get(node) ?? []).filter((r) => r.to !== options.to)
    if (p > 0) rules.push({ ...(options.to !== undefined ? { to: options.to } : {}), p })
    this.#loss.set(node, rules)
    await iptables(n.ns, ['-F', CHAINS.loss])
    for (const r of rules) {
      const dest = r.to !== undefined ? this.#seenBy(node, r.to) : undefined
      if (r.to !== undefined && dest === undefined) continue
      await iptables(n.ns, [
        '-A',
        CHAINS.loss,
        '-o',
        'eth0',
        ...(dest !== undefined ? ['-d', dest] : []),
        '-m',
        'statistic',
        '--mode',
        'random',
        '--probability',
        String(r.p),
        '-j',
        'DROP'
      ])
    }
  }

  /** The same loss on every node's outgoing packets. */
  async setLossEverywhere(p: number): Promise<void> {
    for (const n of this.#nodes.keys()) await this.setLoss(n, p)
  }

  /** Cuts a node off the network (its cable pulled) until `reconnect`; its processes keep running. */
  async disconnect(node: string): Promise<void> {
    const n = this.node(node)
    await iptables(n.ns, ['-F', CHAINS.cut])
    await iptables(n.ns, ['-A', CHAINS.cut, '-i', 'eth0', '-j', 'DROP'])
    await iptables(n.ns, ['-A', CHAINS.cut, '-o', 'eth0', '-j', 'DROP'])
  }

  async reconnect(node: string): Promise<void> {
    await iptables(this.node(node).ns, ['-F', CHAINS.cut])
  }

  /** Starts a process inside a node's namespace (see `LabProcesses.spawn`). */
  spawn(node: string, options: SpawnOptions): LabProcess {
    this.#alive()
    const n = this.node(node)
    this.#writeHosts(n)
    return this.#processes.spawn(n, options)
  }

  /** HTTP over a forwarder to `127.0.0.1:<port>` inside the node's namespace. */
  request(
    node: string,
    port: number,
    req: { method: string; path: string; headers?: Record<string, string>; body?: string; timeoutMs?: number }
  ): Promise<{ status: number; body: string }> {
    this.#alive()
    return this.#processes.request(this.node(node), port, req)
  }

  /** Removes a node's data directory (a wiped disk); stop its processes first. */
  wipe(node: string, subdir = 'data'): void {
    rmSync(join(this.node(node).dir, subdir), { recursive: true, force: true })
  }

  /** Kills every process, deletes every namespace and the lab's directory. Idempotent. */
  async destroy(): Promise<void> {
    if (this.#destroyed) return
    await this.#processes.killAll()
    this.#destroySync()
  }

  get destroyed(): boolean {
    return this.#destroyed
  }

  #destroySync(): void {
    if (this.#destroyed) return
    this.#destroyed = true
    this.#processes.killAllSync()
    for (const ns of [...this.#namespaces].reverse()) removeNamespaceSync(ns)
    rmSync(this.dir, { recursive: true, force: true })
    this.#unhook()
  }

  async #drop(x: string, y: string): Promise<void> {
    const seen = this.#seenBy(x, y)
    if (seen === undefined) return
    const ns = this.node(x).ns
    await iptables(ns, ['-A', CHAINS.part, '-s', seen, '-j', 'DROP'])
    await iptables(ns, ['-A', CHAINS.part, '-d', seen, '-j', 'DROP'])
  }

  /** The address `from` sees `to` at, when it is `to`'s own (not a NAT's shared one). */
  #seenBy(from: string, to: string): string | undefined {
    return this.reachableAddress(from, to)
  }

  /** `/etc/netns/<ns>/hosts`: `ip netns exec` mounts it over /etc/hosts for the process. */
  #writeHosts(n: LabNode): void {
    const lines = ['127.0.0.1 localhost']
    for (const other of this.#nodes.values()) {
      const addr = this.reachableAddress(n.name, other.name)
      if (addr !== undefined) lines.push(`${addr} ${other.host}`)
    }
    mkdirSync(`/etc/netns/${n.ns}`, { recursive: true })
    writeFileSync(`/etc/netns/${n.ns}/hosts`, `${lines.join('\n')}\n`)
  }

  async #addNamespace(ns: string): Promise<void> {
    await run('ip', ['netns', 'add', ns])
    this.#namespaces.push(ns)
  }

  async #forwarding(ns: string): Promise<void> {
    await run('ip', ['netns', 'exec', ns, 'sysctl', '-q', '-w', 'net.ipv4.ip_forward=1'])
  }

  /** A veth pair made inside namespace `a` (`aName`) with its peer moved into `b` (`bName`). */
  async #veth(a: string, aName: string, b: string, bName: string): Promise<void> {
    await run('ip', ['-n', a, 'link', 'add', aName, 'type', 'veth', 'peer', 'name', bName, 'netns', b])
  }

  #alive(): void {
    if (this.#destroyed)
      throw new NetlabError('the lab was destroyed', { code: NETLAB_ERROR_CODES.DESTROYED })
  }
}

function checkName(name: string): void {
  if (!NAME.test(name)) {
    throw new NetlabError('a lab name is 1-20 of a-z, 0-9 and -, starting with a letter', {
      code: NETLAB_ERROR_CODES.INVALID
    })
  }
}
