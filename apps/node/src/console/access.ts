/**
 * How a console page authenticates to the API: the session cookie instead of the bearer token.
 * A state-changing request (anything but GET/HEAD/OPTIONS) made with the cookie must also carry
 * the session's CSRF token in `x-chorus-csrf` (a cross-site page cannot read it, and cannot set
 * a custom header without a CORS preflight the API never grants) and, when the browser names an
 * Origin, come from this agent's own origin.
 */
import { timingSafeEqual } from 'node:crypto'
import type { FastifyRequest } from 'fastify'
import { API_ERROR_CODES } from '../api/error-codes.js'
import { APIError } from '../api/errors.js'
import { type ConsoleSession, type ConsoleSessions, createConsoleSessions } from './sessions.js'

/** The session cookie's name. */
export const SESSION_COOKIE = 'chorus_console'
/** The header a cookie-authenticated state-changing request carries the CSRF token in. */
export const CSRF_HEADER = 'x-chorus-csrf'
/** Where the console lives; its pages and login are served without a token. */
export const CONSOLE_PREFIX = '/console'

/** The console's open paths, exactly (a path that merely starts with the prefix is not one). */
const OPEN_PATH = /^\/console(?:\/|\/login|\/assets\/[A-Za-z0-9_.-]{1,64})?$/

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS'])

export interface ConsoleAccess {
  readonly sessions: ConsoleSessions
  /** The console's own paths (static pages and the login exchange): no token needed. */
  isOpen(path: string): boolean
  /**
   * The request's console session when it carries a live session cookie, else undefined; throws
   * 403 when it does but a state-changing request lacks the CSRF token or comes from elsewhere.
   */
  authenticate(req: FastifyRequest): ConsoleSession | undefined
}

/** One cookie's value from a Cookie header (the first of that name), or undefined. */
export function cookieValue(header: string | undefined, name: string): string | undefined {
  if (header === undefined || header.length > 8192) return undefined
  for (const part of header.split(';')) {
    const eq = part.indexOf('=')
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim()
  }
  return undefined
}

function sameText(a: string, b: string): boolean {
  const x = Buffer.from(a)
  const y = Buffer.from(b)
  return x.length === y.length && timingSafeEqual(x, y)
}

const forbidden = (why: string) => new APIError(403, 'UCXL-403-ACCESS_DENIED', why)

export function createConsoleAccess(sessions: ConsoleSessions = createConsoleSessions()): ConsoleAccess {
  return {
    sessions,
    isOpen(path) {
      return OPEN_PATH.test(path)
    },
    authenticate(req) {
      const id = cookieValue(req.headers.cookie, SESSION_COOKIE)
      if (id === undefined) return undefined
      const session = sessions.lookup(id)
      if (session === undefined) {
        throw new APIError(
          401,
          API_ERROR_CODES.UNAUTHORIZED,
          'the console session has expired or ended; run `chorus-node console` for a new login link'
        )
      }
      if (SAFE_METHODS.has(req.method)) return session
      const csrf = req.headers[CSRF_HEADER]
      if (typeof csrf !== 'string' || !sameText(csrf, session.csrf)) {
        throw forbidden(`a console request that changes state needs the ${CSRF_HEADER} header`)
      }
      const origin = req.headers.origin
      if (origin !== undefined && origin !== 'null') {
        let host: string | undefined
        try {
          host = new URL(origin).host
        } catch {
          host = undefined
        }
        if (host === undefined || host !== req.headers.host) {
          throw forbidden('a console request must come from the console itself')
        }
      } else if (origin === 'null') throw forbidden('a console request must come from the console itself')
      return session
    }
  }
}
