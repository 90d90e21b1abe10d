/**
 * The logger every CHORUS component takes (pino's call shape: an object of fields and/or a
 * message). Library code logs only through one it was given; it never carries secrets.
 */
export interface Logger {
  debug(obj: object | string, msg?: string): void
  info(obj: object | string, msg?: string): void
  warn(obj: object | string, msg?: string): void
  error(obj: object | string, msg?: string): void
}

const noop = (): void => {}

/** A logger that drops everything: the default where none is given. */
export const silentLogger: Logger = Object.freeze({ debug: noop, info: noop, warn: noop, error: noop })
