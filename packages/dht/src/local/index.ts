// The persistent single-process Dht (createLocalDHT).
export { localDhtDefaults } from '../config.js'
export type { LocalDHT, LocalDHTInit, LocalDHTStats } from './local-dht.js'
export { createLocalDHT } from './local-dht.js'
export { LOCAL_DHT_FILE } from './store.js'
