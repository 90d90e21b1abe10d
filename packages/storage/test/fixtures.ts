// The shared fixtures live in src/testing.ts (published as @chorus/storage/testing).
export { nodeCrypto, startStorage, teamKeys } from '../src/testing.js'
