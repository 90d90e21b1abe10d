// Strict, canonical base64 as the age format requires: standard alphabet, and no padding in the
// header (RawStdEncoding.Strict in Go). Node's decoder is lenient, so every decode is checked by
// re-encoding: that rejects stray characters, padding and non-zero trailing bits alike.

const RAW_B64 = /^[A-Za-z0-9+/]*$/

/** Decodes unpadded canonical base64, or returns undefined when the text is not exactly that. */
export function decodeRawBase64(text: string): Buffer | undefined {
  if (!RAW_B64.test(text) || text.length % 4 === 1) return undefined
  const bytes = Buffer.from(text, 'base64')
  return encodeRawBase64(bytes) === text ? bytes : undefined
}

export function encodeRawBase64(bytes: Uint8Array): string {
  const s = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64')
  const pad = s.endsWith('==') ? 2 : s.endsWith('=') ? 1 : 0
  return pad === 0 ? s : s.slice(0, s.length - pad)
}

const PADDED_B64 = /^[A-Za-z0-9+/]*={0,2}$/

/** Decodes padded canonical base64 (the armor's form), or undefined when it is not exactly that. */
export function decodePaddedBase64(text: string): Buffer | undefined {
  if (!PADDED_B64.test(text) || text.length % 4 !== 0) return undefined
  const bytes = Buffer.from(text, 'base64')
  return bytes.toString('base64') === text ? bytes : undefined
}
