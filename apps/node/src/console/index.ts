/** The web console: its access rule (session cookie, CSRF) and its routes. */
export {
  CONSOLE_PREFIX,
  type ConsoleAccess,
  CSRF_HEADER,
  createConsoleAccess,
  SESSION_COOKIE
} from './access.js'
export { CONSOLE_CSP, type ConsoleInit, registerConsole } from './routes.js'
export {
  type BackendSwitch,
  createMetricsSampler,
  type MetricsSample,
  type MetricsSampler
} from './samples.js'
export { type ConsoleSessions, createConsoleSessions } from './sessions.js'
