/** The options of this package and their defaults, in one place. */

/** How createAgeCrypto behaves. */
export interface AgeCryptoInit {
  /**
   * Where the fresh X25519 key of each recipient stanza comes from. `'precomputed'`: generated
   * ahead of time on a worker thread (one per process, started on first use, never keeping the
   * process alive), so encrypting costs about half the CPU time on the calling thread; when the
   * pool is empty a key is generated inline. `'inline'`: always generated on the calling thread,
   * with no worker. Either way every key is used exactly once.
   * @default 'precomputed'
   */
  ephemeralKeys?: 'precomputed' | 'inline'
  /**
   * Most recipient stanzas one ciphertext may carry: one per current key of every role it is
   * encrypted for, so far above any team's (a team of 30 roles in a key rotation's overlap needs
   * 60). Encrypting to more recipients is refused; a header with more is refused while it is
   * parsed, before any X25519 work (an 1 MiB record could otherwise carry about 11,000 stanzas and
   * cost a reader a second of key agreements per identity it holds). Storage refuses such records
   * at validation with the same limit (`maxRecipientStanzas`).
   * @default 128
   */
  maxRecipientStanzas?: number
  /**
   * Most unwrap attempts one decryption may need: X25519 stanzas × identities this node holds
   * (each attempt is one key agreement, about 50 µs). A ciphertext that could need more is
   * refused before the first attempt; the attempts run in slices of 32 with a yield to the event
   * loop between slices, so no decryption holds the loop for more than a few milliseconds.
   * @default 4096
   */
  maxUnwrapAttempts?: number
}

/** The defaults of {@link AgeCryptoInit}. */
export const ageCryptoDefaults = {
  ephemeralKeys: 'precomputed',
  maxRecipientStanzas: 128,
  maxUnwrapAttempts: 4096
} as const satisfies Required<AgeCryptoInit>
