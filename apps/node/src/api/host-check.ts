/**
 * DNS rebinding defence for the loopback API: a web page on `evil.example` whose name is made to
 * resolve to 127.0.0.1 can make the browser send requests here, but the browser still names
 * `evil.example` in the Host header. So a request is served only when its Host names this
 * machine by an IP literal (no DNS, so nothing to rebind), `localhost` (or a `*.localhost` name,
 * which resolvers keep on loopback), or a name the operator listed in `api.allowedHosts`.
 */
import { isIP } from 'node:net'

/** Whether `host` (a Host header value: name or IP, optional port) may be served. */
export type HostCheck = (host: string | undefined) => boolean

/** Strips the port and IPv6 brackets; undefined when the value is not a host[:port]. */
export function hostnameOf(host: string): string | undefined {
  const value = host.trim().toLowerCase()
  if (value.startsWith('[')) {
    const end = value.indexOf(']')
    if (end < 0) return undefined
    const rest = value.slice(end + 1)
    if (rest !== '' && !/^:\d{1,5}$/.test(rest)) return undefined
    return value.slice(1, end)
  }
  const colon = value.lastIndexOf(':')
  const name = colon < 0 ? value : value.slice(0, colon)
  if (colon >= 0 && !/^\d{1,5}$/.test(value.slice(colon + 1))) return undefined
  return name.endsWith('.') ? name.slice(0, -1) : name
}

/** A check that takes IP literals, localhost names and the names in `allowedHosts`. */
export function createHostCheck(allowedHosts: readonly string[] = []): HostCheck {
  const allowed = new Set(allowedHosts.map((h) => hostnameOf(h) ?? h.toLowerCase()))
  return (host) => {
    if (host === undefined || host.length > 300) return false
    const name = hostnameOf(host)
    if (name === undefined || name === '') return false
    if (isIP(name) !== 0) return true
    if (name === 'localhost' || name.endsWith('.localhost')) return true
    return allowed.has(name)
  }
}
