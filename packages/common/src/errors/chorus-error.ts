/**
 * The one error base of every CHORUS package.
 *
 * - `name` is the class name and stable: it is part of the API, like `code`.
 * - `code` is a stable machine-readable string (see docs/ARCHITECTURE.md, "Errors"); callers and
 *   the HTTP API branch on it, never on the message.
 * - `cause` is the error this one wraps, if any.
 * - `isInstance()` works across copies of a package (two versions installed side by side, or a
 *   bundled and an installed copy), where `instanceof` does not: every instance carries the names
 *   of its class chain under a `Symbol.for` key, which all copies share.
 */

const KINDS: unique symbol = Symbol.for('chorus.error.kinds') as never

/** Options every CHORUS error takes. */
export interface ChorusErrorOptions {
  /** The stable code of this condition. */
  code: string
  /** The error this one wraps. */
  cause?: unknown
}

export class ChorusError extends Error {
  readonly code: string
  declare readonly [KINDS]: ReadonlySet<string>

  constructor(message: string, options: ChorusErrorOptions) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.code = options.code
    // The most derived class's name, set once here so subclasses need not repeat it.
    this.name = new.target.name
    const kinds = new Set<string>()
    for (let c: unknown = new.target; typeof c === 'function' && c !== Error; c = Object.getPrototypeOf(c)) {
      kinds.add((c as { name: string }).name)
    }
    Object.defineProperty(this, KINDS, { value: kinds, enumerable: false })
  }

  /**
   * True when `value` is an instance of this class (or a subclass), from any copy of the package
   * that defines it. `ChorusError.isInstance(e)` is true for every CHORUS error.
   */
  static isInstance<T extends ChorusError>(
    this: abstract new (
      ...args: never[]
    ) => T,
    value: unknown
  ): value is T {
    if (typeof value !== 'object' || value === null) return false
    const kinds = (value as { [KINDS]?: unknown })[KINDS]
    // biome-ignore lint/complexity/noThisInStatic: `this` is the class isInstance() is called on
    return kinds instanceof Set && kinds.has(this.name)
  }
}
