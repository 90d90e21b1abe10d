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
}

/** The defaults of {@link AgeCryptoInit}. */
export const ageCryptoDefaults = {
  ephemeralKeys: 'precomputed'
} as const satisfies Required<AgeCryptoInit>
