// The persistent single-process DHT (createLocalDHT).
export { localDHTDefaults } from '../config.js'
export type { LocalDHT, LocalDHTInit, LocalDHTStats } from './local-dht.js'
export { createLocalDHT } from './local-dht.js'
export { LOCAL_DHT_FILE } from './store.js'
