/**
 * Console logins: a single-use ticket (minted by a bearer-authenticated API call, valid 60 s) is
 * exchanged once for a session (an HttpOnly cookie) that expires. Only SHA-256 digests of tickets
 * and session ids are kept, so a lookup's timing says nothing about a secret; both tables are
 * bounded (the oldest entry makes room).
 */
import { createHash, randomBytes } from 'node:crypto'

export interface ConsoleSession {
  /** Sent back in `x-chorus-csrf` on every state-changing request the page makes. */
  csrf: string
  /** Epoch ms after which the session is refused. */
  expiresAt: number
}

export interface ConsoleSessionsInit {
  /** How long a login ticket may wait to be used, in ms. Default 60 s. */
  ticketTtlMs?: number
  /** How long a session lasts, in ms. Default 8 hours. */
  sessionTtlMs?: number
  /** Most unused tickets kept. Default 32. */
  maxTickets?: number
  /** Most sessions kept. Default 64. */
  maxSessions?: number
  now?: () => number
}

export interface ConsoleSessions {
  readonly sessionTtlMs: number
  /** A new single-use ticket and when it expires. */
  mintTicket(): { ticket: string; expiresAt: number }
  /** Uses the ticket up: a new session and its id (the cookie's value), or undefined. */
  redeem(ticket: string): ({ id: string } & ConsoleSession) | undefined
  /** The live session of a cookie value, or undefined. */
  lookup(id: string): ConsoleSession | undefined
  /** Ends a session (logout). */
  end(id: string): void
}

const digest = (secret: string) => createHash('sha256').update(secret).digest('base64url')
const secret = () => randomBytes(32).toString('base64url')
/** What a ticket or session id looks like (32 random bytes, base64url); anything else is refused unread. */
const SECRET_FORMAT = /^[A-Za-z0-9_-]{43}$/

/** Drops expired entries, then the oldest while the map is over `max`. */
function prune<T extends { expiresAt: number }>(map: Map<string, T>, now: number, max: number): void {
  for (const [k, v] of map) if (v.expiresAt <= now) map.delete(k)
  while (map.size > max) map.delete(map.keys().next().value as string)
}

export function createConsoleSessions(init: ConsoleSessionsInit = {}): ConsoleSessions {
  const ticketTtlMs = init.ticketTtlMs ?? 60_000
  const sessionTtlMs = init.sessionTtlMs ?? 8 * 3_600_000
  const maxTickets = init.maxTickets ?? 32
  const maxSessions = init.maxSessions ?? 64
  const now = init.now ?? Date.now
  const tickets = new Map<string, { expiresAt: number }>()
  const sessions = new Map<string, ConsoleSession>()

  return {
    sessionTtlMs,
    mintTicket() {
      const ticket = secret()
      const expiresAt = now() + ticketTtlMs
      tickets.set(digest(ticket), { expiresAt })
      prune(tickets, now(), maxTickets)
      return { ticket, expiresAt }
    },
    redeem(ticket) {
      if (!SECRET_FORMAT.test(ticket)) return undefined
      const key = digest(ticket)
      const entry = tickets.get(key)
      tickets.delete(key)
      if (entry === undefined || entry.expiresAt <= now()) return undefined
      const id = secret()
      const session = { csrf: secret(), expiresAt: now() + sessionTtlMs }
      sessions.set(digest(id), session)
      prune(sessions, now(), maxSessions)
      return { id, ...session }
    },
    lookup(id) {
      if (!SECRET_FORMAT.test(id)) return undefined
      const session = sessions.get(digest(id))
      if (session === undefined) return undefined
      if (session.expiresAt <= now()) {
        sessions.delete(digest(id))
        return undefined
      }
      return session
    },
    end(id) {
      if (SECRET_FORMAT.test(id)) sessions.delete(digest(id))
    }
  }
}
