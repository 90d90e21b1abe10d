import { CiphertextIntegrityError } from '../errors.js'
import { decodeRawBase64, encodeRawBase64 } from './base64.js'

// The age v1 header (https://age-encryption.org/v1), parsed as strictly as the reference Go
// implementation: an exact version line, `-> type args…` stanzas with canonical unpadded base64
// bodies wrapped at 48 bytes (a short, possibly empty, final line), and `--- <MAC>`.

export const VERSION_LINE = 'age-encryption.org/v1'
const BYTES_PER_LINE = 48
const LF = 0x0a

export interface Stanza {
  /** The stanza type, e.g. `X25519`. */
  readonly type: string
  /** The arguments after the type. */
  readonly args: string[]
  readonly body: Uint8Array
}

export interface ParsedHeader {
  stanzas: Stanza[]
  /** The header bytes the MAC covers: everything up to and including `---`. */
  headerNoMac: Uint8Array
  mac: Buffer
  /** Offset of the first byte after the header (the payload nonce). */
  payloadOffset: number
}

function headerError(message: string): never {
  throw new CiphertextIntegrityError('header', message)
}

function isValidArg(arg: string): boolean {
  if (arg.length === 0) return false
  for (let i = 0; i < arg.length; i++) {
    const c = arg.charCodeAt(i)
    if (c < 33 || c > 126) return false
  }
  return true
}

export interface ParseHeaderOptions {
  /**
   * Most stanzas accepted: the next `->` line is refused while parsing, before its body is read
   * and before any key agreement. Default: no limit (the age format sets none).
   */
  maxStanzas?: number
}

export function parseHeader(data: Uint8Array, options: ParseHeaderOptions = {}): ParsedHeader {
  const maxStanzas = options.maxStanzas ?? Number.POSITIVE_INFINITY
  const buf = Buffer.from(data.buffer, data.byteOffset, data.byteLength)
  let pos = 0
  const nextLine = (): string | undefined => {
    const nl = buf.indexOf(LF, pos)
    if (nl < 0) return undefined
    const line = buf.toString('latin1', pos, nl)
    pos = nl + 1
    return line
  }

  const intro = nextLine()
  if (intro === undefined) headerError('the file is empty or has no header line')
  if (intro !== VERSION_LINE) headerError('not an age v1 file (unexpected version line)')

  const stanzas: Stanza[] = []
  for (;;) {
    const lineStart = pos
    const line = nextLine()
    if (line === undefined) headerError('the header is truncated')
    if (line.startsWith('---')) {
      const parts = line.split(' ')
      if (parts[0] !== '---' || parts.length !== 2) headerError('malformed MAC line')
      const mac = decodeRawBase64(parts[1] ?? '')
      if (mac === undefined || mac.length !== 32) headerError('malformed MAC')
      return { stanzas, headerNoMac: buf.subarray(0, lineStart + 3), mac, payloadOffset: pos }
    }
    if (!line.startsWith('->')) headerError('unexpected line in the header')
    if (stanzas.length >= maxStanzas) headerError(`more than ${maxStanzas} recipient stanzas`)
    const parts = line.split(' ')
    if (parts[0] !== '->' || parts.length < 2) headerError('malformed stanza line')
    const args = parts.slice(1)
    if (!args.every(isValidArg)) headerError('malformed stanza argument')
    const chunks: Buffer[] = []
    for (;;) {
      const bodyLine = nextLine()
      if (bodyLine === undefined) headerError('the header is truncated inside a stanza body')
      const bytes = decodeRawBase64(bodyLine)
      if (bytes === undefined) headerError('stanza body is not canonical unpadded base64')
      if (bytes.length > BYTES_PER_LINE) headerError('stanza body line is too long')
      chunks.push(bytes)
      if (bytes.length < BYTES_PER_LINE) break
    }
    stanzas.push({ type: args[0] ?? '', args: args.slice(1), body: Buffer.concat(chunks) })
  }
}

/** Encodes the header up to and including `---` (the part the MAC covers). */
export function encodeHeaderNoMac(stanzas: readonly Stanza[]): Buffer {
  let text = `${VERSION_LINE}\n`
  for (const s of stanzas) {
    text += `-> ${[s.type, ...s.args].join(' ')}\n`
    for (let i = 0; i < s.body.length; i += BYTES_PER_LINE) {
      text += `${encodeRawBase64(s.body.subarray(i, i + BYTES_PER_LINE))}\n`
    }
    if (s.body.length % BYTES_PER_LINE === 0) text += '\n'
  }
  text += '---'
  return Buffer.from(text, 'latin1')
}

export function encodeMacLine(mac: Uint8Array): Buffer {
  return Buffer.from(` ${encodeRawBase64(mac)}\n`, 'latin1')
}
