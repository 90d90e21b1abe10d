/**
 * The logger libp2p's components get: @libp2p/logger's, except that a component whose logs are
 * not enabled (`DEBUG`) gets a silent logger without creating one. libp2p creates a logger for
 * every connection and every stream, and @libp2p/logger's creation asks the terminal for colours
 * each time (an `isatty` system call per logger): about 1.5 % of a storing agent's CPU.
 */
import type { ComponentLogger, Logger } from '@libp2p/interface'
import { defaultLogger, enabled } from '@libp2p/logger'

const nothing = (): void => {}

export function libp2pLogger(): ComponentLogger {
  const base = defaultLogger()
  const forComponent = (name: string): Logger => {
    if (enabled(name) || enabled(`${name}:error`) || enabled(`${name}:trace`)) return base.forComponent(name)
    // a scope below may be enabled on its own (DEBUG=libp2p:kad-dht:query)
    return Object.assign(() => {}, {
      error: nothing,
      trace: nothing,
      enabled: false,
      newScope: (scope: string) => forComponent(`${name}:${scope}`)
    })
  }
  return { forComponent }
}
