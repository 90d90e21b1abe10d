import { generateKey } from '@libp2p/pnet'

/** A new private-network key (the libp2p `pnet` key file format) for `init.psk`. Keep it secret. */
export function generatePsk(): Uint8Array {
  const key = new Uint8Array(95)
  generateKey(key)
  return key
}
