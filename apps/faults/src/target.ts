/**
 * What a fault run needs from the network it runs on. The loopback target (agent processes on
 * 127.0.0.1, iptables on `lo`) implements it here; the network lab (namespaces, NAT) implements
 * it with its own addresses. Nodes are numbered 0..nodes-1.
 */
import type { FaultKind } from './schedule.js'

export interface AbortOptions {
  signal?: AbortSignal
}

export interface FaultTarget {
  /** What the target is, for the report (`loopback`, `lab`). Default `custom`. */
  readonly name?: string
  /** Number of nodes. */
  readonly nodes: number
  /** Fault kinds this target cannot inject (scheduled ones are skipped and reported as skipped). */
  readonly unsupported: ReadonlySet<FaultKind>
  /** Cut every link between a node of `a` and a node of `b` (both directions). */
  partition(a: readonly number[], b: readonly number[], options?: AbortOptions): Promise<void>
  /** Remove every partition. */
  heal(options?: AbortOptions): Promise<void>
  /** Drop each packet to or from `node` with probability `p` (0 removes the loss). */
  setLoss(node: number, p: number, options?: AbortOptions): Promise<void>
  /** SIGKILL the node's process; resolves once it is gone. */
  kill(node: number, options?: AbortOptions): Promise<void>
  /** Start the node again on its data directory; resolves once its API is ready. */
  restart(node: number, options?: AbortOptions): Promise<void>
  /** Lose the node's disk: kill it and delete its data, keeping only its provisioned identity and team files. Leaves it stopped. */
  wipe(node: number, options?: AbortOptions): Promise<void>
  /** Take away the relay a NATed node is reached through / give it back. */
  removeRelay(node: number, options?: AbortOptions): Promise<void>
  restoreRelay(node: number, options?: AbortOptions): Promise<void>
  /** The node's HTTP API endpoint as it is now (it changes when a node restarts with a new token). */
  endpoint(node: number): NodeEndpoint | undefined
  /** Each start of the node counts one incarnation (a client's session ends with its node's incarnation). */
  incarnation(node: number): number
  /**
   * The node's agent id (its certificate's): clients write only addresses of their home node's
   * agent id. Default `n<node>`.
   */
  agentId?(node: number): string
  /** The nodes a `relay` fault can hit (those reached through a relay). Default: every node. */
  readonly relayNodes?: readonly number[]
  /** The role every node's agent holds (they must be able to read each other's records). Default `backend_developer`. */
  readonly role?: string
}

export interface NodeEndpoint {
  /** The API's base URL (for the log when `request` is given). */
  url: string
  token: string
  /**
   * How to send a request when `fetch` to `url` cannot reach the API (the network lab: the API
   * listens on the loopback of a namespace, reached through a forwarder). Default: `fetch`.
   */
  request?: EndpointTransport
}

export interface EndpointRequest {
  method: string
  path: string
  headers: Record<string, string>
  body?: string
  timeoutMs: number
}

/** Sends one HTTP request; rejects when no answer came (its error's `code` says why when known). */
export type EndpointTransport = (req: EndpointRequest) => Promise<{ status: number; body: string }>
