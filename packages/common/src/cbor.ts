/**
 * The options of a strict CBOR decoder (cborg's `decode`): one encoding per value. No indefinite
 * lengths, `undefined`, infinities, NaN, big integers, tags or duplicate map keys; maps decode as
 * plain objects. Every decoder of bytes from outside (envelopes, protocol messages, team
 * manifests and certificates) uses these, then re-encodes to check the bytes were canonical.
 */
export const STRICT_CBOR_DECODE_OPTIONS = Object.freeze({
  strict: true,
  allowIndefinite: false,
  allowUndefined: false,
  allowInfinity: false,
  allowNaN: false,
  allowBigInt: false,
  rejectDuplicateMapKeys: true,
  useMaps: false,
  tags: [] as never[]
})
