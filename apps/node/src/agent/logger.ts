import { type Logger, pino } from 'pino'

/** Keys that might hold a secret anywhere in a log object; pino replaces their values. */
const REDACT = [
  'token',
  'apiToken',
  'identity',
  'identities',
  'secret',
  'privateKey',
  'psk',
  'authorization',
  '*.token',
  '*.apiToken',
  '*.identity',
  '*.secret',
  '*.privateKey',
  '*.psk',
  '*.authorization',
  'req.headers.authorization'
]

/** The agent's structured JSON logger (pino) on stdout, with secret-looking keys redacted. */
export function createLogger(level: string, bindings: Record<string, unknown> = {}): Logger {
  return pino({
    level,
    base: { pid: process.pid, ...bindings },
    redact: { paths: REDACT, censor: '[redacted]' },
    timestamp: pino.stdTimeFunctions.isoTime
  })
}
