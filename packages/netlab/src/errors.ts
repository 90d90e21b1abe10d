/** Errors of the netlab package, on `ChorusError` from `@chorus/common`; classify with `X.isInstance(err)`. */
import { ChorusError } from '@chorus/common'

export const NETLAB_ERROR_CODES = {
  /** Not root, or `ip`/`iptables` missing: the lab cannot run here. */
  UNAVAILABLE: 'NETLAB_UNAVAILABLE',
  /** A command that builds or changes the lab failed. */
  COMMAND: 'NETLAB_COMMAND',
  /** A name, site or node the call does not know, or a bad argument. */
  INVALID: 'NETLAB_INVALID',
  /** The lab was destroyed. */
  DESTROYED: 'NETLAB_DESTROYED'
} as const
export type NetlabErrorCode = (typeof NETLAB_ERROR_CODES)[keyof typeof NETLAB_ERROR_CODES]

export class NetlabError extends ChorusError {
  constructor(message: string, options: { code: NetlabErrorCode; cause?: unknown }) {
    super(message, options)
  }
}
