import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { autoNAT } from '@libp2p/autonat'
import { type CircuitRelayService, circuitRelayServer, circuitRelayTransport } from '@libp2p/circuit-relay-v2'
import { dcutr } from '@libp2p/dcutr'
import type { Identify } from '@libp2p/identify'
import { identify, identifyPush } from '@libp2p/identify'
import type { ConnectionGater, Libp2p, PeerInfo, PrivateKey } from '@libp2p/interface'
import { type KadDHT, type KadDHTInit, kadDHT, passthroughMapper } from '@libp2p/kad-dht'
import type { Ping } from '@libp2p/ping'
import { ping } from '@libp2p/ping'
import { preSharedKey } from '@libp2p/pnet'
import { tcp } from '@libp2p/tcp'
import { uPnPNAT } from '@libp2p/upnp-nat'
import { webSockets } from '@libp2p/websockets'
import type { Datastore } from 'interface-datastore'
import { createLibp2p, type Libp2pOptions } from 'libp2p'
import { type ConnectionLimits, connectionDefaults } from '../config.js'
import type { RecordRules } from '../contract.js'
import { DHTConfigError } from '../errors.js'
import { libp2pLogger } from './libp2p-logger.js'

/** The services a node driven by LibP2PDHT carries. `dht` must be @libp2p/kad-dht, `ping` is required by it. */
// a type alias (not an interface) so it satisfies libp2p's ServiceMap index signature
export type ChorusServices = {
  dht: KadDHT
  ping: Ping
  identify: Identify
  /**
   * Identify push: tells connected peers when this node's protocols change, so a node that turns
   * DHT client behind NAT (kad-dht withdraws its protocol) stops counting as a server for them.
   */
  identifyPush?: unknown
  /** Circuit relay v2 server (members only, while reachable: relay-gate.ts); absent when off. */
  relay?: CircuitRelayService
  autonat?: unknown
  dcutr?: unknown
  upnp?: unknown
}

/** Reachability options of the node (AutoNAT, relay, hole punching, UPnP). */
export interface ReachabilityOptions {
  /** Offer circuit relay v2 service (to members, while reachable). Default true. */
  relayService?: boolean
  /** Dial and accept relayed connections, reserve a slot when behind NAT. Default true. */
  relayClient?: boolean
  /** DCUtR: upgrade relayed connections to direct ones. Default true. */
  holePunching?: boolean
  /** libp2p's AutoNAT (public addresses). Default true. */
  autoNAT?: boolean
  /** Map the listen port on the gateway with UPnP. Default false. */
  upnp?: boolean
}

export type ChorusLibp2p = Libp2p<ChorusServices>

export type { ConnectionLimits }

export interface BuildNodeOptions {
  privateKey: PrivateKey
  datastore: Datastore
  listen: string[]
  announce?: string[]
  protocolPrefix: string
  clientMode: boolean
  records: RecordRules
  psk?: Uint8Array
  agentVersion: string
  connection?: ConnectionLimits
  kad?: Partial<KadDHTInit>
  connectionGater?: ConnectionGater
  /** kad-dht's peer info mapper (admission: refused peers lose their addresses). Default: passthrough. */
  peerInfoMapper?: (peer: PeerInfo) => PeerInfo
  reachability?: ReachabilityOptions
}

/** The libp2p stack every CHORUS node runs; the testing baseline builds the same transport stack. */
export type TransportConfig = Pick<
  Libp2pOptions,
  | 'transports'
  | 'connectionEncrypters'
  | 'streamMuxers'
  | 'connectionProtector'
  | 'connectionGater'
  | 'connectionManager'
>

export function transportConfig(
  psk: Uint8Array | undefined,
  connection: ConnectionLimits = {},
  gater: ConnectionGater = {},
  relayClient = false
): TransportConfig {
  let connectionProtector: ReturnType<typeof preSharedKey> | undefined
  if (psk != null) {
    try {
      connectionProtector = preSharedKey({ psk })
    } catch (err) {
      throw new DHTConfigError('psk is not a valid libp2p private-network key', { cause: err })
    }
  }
  return {
    // WebSockets beside TCP for networks that pass only HTTP-like traffic (listen on `.../tcp/N/ws`)
    transports: [tcp(), webSockets(), ...(relayClient ? [circuitRelayTransport()] : [])],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    ...(connectionProtector != null ? { connectionProtector } : {}),
    // dialling private and loopback addresses is what a team network needs
    connectionGater: { denyDialMultiaddr: () => false, ...gater },
    connectionManager: {
      maxConnections: connection.maxConnections ?? connectionDefaults.maxConnections,
      maxIncomingPendingConnections:
        connection.maxIncomingPendingConnections ?? connectionDefaults.maxIncomingPendingConnections,
      inboundConnectionThreshold:
        connection.inboundConnectionThreshold ?? connectionDefaults.inboundConnectionThreshold,
      dialTimeout: connection.dialTimeout ?? connectionDefaults.dialTimeout,
      addressDialTimeout: connection.addressDialTimeout ?? connectionDefaults.addressDialTimeout,
      inboundUpgradeTimeout: connection.inboundUpgradeTimeout ?? connectionDefaults.inboundUpgradeTimeout
    }
  }
}

/**
 * Ping streams per connection and direction. libp2p's connection monitor pings every connection
 * every 10 s and aborts the connection, with every stream on it, when a ping fails, including
 * when it cannot even open the ping stream because the protocol's stream limit is reached. The
 * ping service's defaults (1 outbound, 2 inbound) made that happen on healthy connections under
 * load: opening a stream (protocol negotiation, then a peer-store update) can outlast the 10 s
 * interval, the next heartbeat's ping found the previous one still open
 * (`TooManyOutboundProtocolStreamsError ... 2/1`) and the monitor hung up on a healthy peer,
 * failing every store whose direct push was in flight on that connection (issue #18). A ping
 * may take up to the monitor's longest timeout (60 s), so up to 7 heartbeats overlap; the
 * inbound side allows the same plus one (replication's liveness probe). A ping stream carries
 * 32 bytes each way.
 */
export const PING_STREAM_LIMITS = Object.freeze({ maxOutboundStreams: 8, maxInboundStreams: 9 })

/**
 * The shortest time the connection monitor's ping may take before it hangs up, in ms (libp2p's
 * adaptive default starts at 5 s). On a loaded machine a healthy peer's ping took longer
 * (`TimeoutError` in the monitor's log during the same runs); a peer that is really gone has
 * its TCP connection closed long before, and a hung one is still dropped after this.
 */
export const PING_MIN_TIMEOUT_MS = 15_000

/**
 * Builds (without starting) the libp2p node: tcp, websockets, circuit relay, noise, yamux,
 * optional pnet, identify, ping, kad-dht, AutoNAT, DCUtR, the relay server, optional UPnP.
 */
export async function buildNode(opts: BuildNodeOptions): Promise<ChorusLibp2p> {
  const r = opts.reachability ?? {}
  const relayClient = r.relayClient ?? true
  return createLibp2p<ChorusServices>({
    start: false,
    privateKey: opts.privateKey,
    datastore: opts.datastore,
    nodeInfo: { userAgent: opts.agentVersion },
    logger: libp2pLogger(),
    addresses: {
      listen: opts.listen,
      ...(opts.announce != null ? { announce: opts.announce } : {})
    },
    ...transportConfig(opts.psk, opts.connection, opts.connectionGater, relayClient),
    connectionMonitor: { pingTimeout: { minTimeout: PING_MIN_TIMEOUT_MS } },
    services: {
      identify: identify(),
      identifyPush: identifyPush(),
      ping: ping({ ...PING_STREAM_LIMITS }),
      dht: kadDHT({
        protocol: `${opts.protocolPrefix}/kad/1.0.0`,
        clientMode: opts.clientMode,
        // keep private and loopback addresses: CHORUS networks are usually private
        peerInfoMapper: opts.peerInfoMapper ?? passthroughMapper,
        // queries on a node without peers return at once instead of waiting for one
        allowQueryWithZeroPeers: true,
        validators: opts.records.validators,
        selectors: opts.records.selectors,
        ...opts.kad
      }),
      ...((r.autoNAT ?? true) ? { autonat: autoNAT() } : {}),
      ...(relayClient && (r.holePunching ?? true) ? { dcutr: dcutr() } : {}),
      ...((r.relayService ?? true) ? { relay: circuitRelayServer() } : {}),
      ...(r.upnp === true ? { upnp: uPnPNAT() } : {})
    }
  })
}
