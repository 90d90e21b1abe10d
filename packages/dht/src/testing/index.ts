/**
 * Test and benchmark helpers: real multi-node networks on 127.0.0.1 (ephemeral TCP ports).
 * Import from `@chorus/dht/testing`; never for production nodes.
 */

export { type KadBaselineInit, type KadBaselineNetwork, startKadBaselineNetwork } from './baseline.js'
export { type NetworkInit, startNetwork, type TestNetwork } from './network.js'
export { permissiveRecords } from './records.js'
