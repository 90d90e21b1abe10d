import { CiphertextIntegrityError } from '../errors.js'
import { decodePaddedBase64 } from './base64.js'

// age's ASCII armor: a strict PEM subset. `-----BEGIN AGE ENCRYPTED FILE-----`, padded base64 in
// 64-column lines (only the last may be shorter, and never empty), `-----END AGE ENCRYPTED FILE-----`.
// Whitespace is allowed before the first line and after the last; LF or CRLF line ends.

const BEGIN = '-----BEGIN AGE ENCRYPTED FILE-----'
const END = '-----END AGE ENCRYPTED FILE-----'
const COLUMNS = 64
const INTRO = Buffer.from('age-encryption.org/')

function isSpace(c: number | undefined): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d
}

/** True when the input looks armored rather than binary (any PEM-style begin line near the start). */
export function looksArmored(data: Uint8Array): boolean {
  const buf = Buffer.from(data.buffer, data.byteOffset, data.byteLength)
  if (buf.subarray(0, INTRO.length).equals(INTRO)) return false
  let i = 0
  while (i < buf.length && isSpace(buf[i])) i++
  return buf[i] === 0x2d || buf.subarray(0, 2048).includes('-----BEGIN')
}

export function encodeArmor(binary: Uint8Array): Buffer {
  const b64 = Buffer.from(binary.buffer, binary.byteOffset, binary.byteLength).toString('base64')
  const lines: string[] = [BEGIN]
  for (let i = 0; i < b64.length; i += COLUMNS) lines.push(b64.slice(i, i + COLUMNS))
  lines.push(END, '')
  return Buffer.from(lines.join('\n'), 'latin1')
}

function armorError(message: string): never {
  throw new CiphertextIntegrityError('armor', message)
}

export function decodeArmor(data: Uint8Array): Buffer {
  const buf = Buffer.from(data.buffer, data.byteOffset, data.byteLength)
  let start = 0
  while (start < buf.length && isSpace(buf[start])) start++
  const text = buf.toString('latin1', start)
  const lines = text.split('\n')
  // Every line may end in CR (CRLF files); nothing else is stripped.
  const line = (i: number) => {
    const l = lines[i] ?? ''
    return l.endsWith('\r') ? l.slice(0, -1) : l
  }
  if (line(0) !== BEGIN) armorError('the first line is not the age armor begin line')
  let i = 1
  const parts: Buffer[] = []
  for (;;) {
    if (i >= lines.length) armorError('the armor end line is missing')
    const l = line(i)
    if (l === END) break
    if (l.length === 0 || l.length > COLUMNS) armorError(`armor line ${i + 1} has a bad length`)
    const bytes = decodePaddedBase64(l)
    if (bytes === undefined) armorError(`armor line ${i + 1} is not canonical base64`)
    parts.push(bytes)
    i++
    if (l.length < COLUMNS && line(i) !== END) armorError(`armor line ${i} is short but is not the last`)
  }
  // After the end line only whitespace may follow.
  const rest = lines.slice(i + 1).join('\n')
  for (let k = 0; k < rest.length; k++) {
    if (!isSpace(rest.charCodeAt(k))) armorError('data follows the armor end line')
  }
  return Buffer.concat(parts)
}
