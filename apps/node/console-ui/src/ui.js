// Small shared pieces: htm bound to Preact, a data loader hook, and the common renderings.

import htm from 'htm'
import { h } from 'preact'
import { useCallback, useEffect, useRef, useState } from 'preact/hooks'

export const html = htm.bind(h)

/** Loads `fn()` now and on `reload()`; with `everyMs`, again on that period while mounted. */
export function useLoad(fn, deps = [], everyMs = 0) {
  const [state, setState] = useState({ loading: true, data: undefined, error: undefined })
  const alive = useRef(true)
  const reload = useCallback(async () => {
    setState((s) => ({ ...s, loading: true }))
    try {
      const data = await fn()
      if (alive.current) setState({ loading: false, data, error: undefined })
    } catch (error) {
      if (alive.current) setState({ loading: false, data: undefined, error })
    }
  }, deps)
  useEffect(() => {
    alive.current = true
    reload()
    const timer = everyMs > 0 ? setInterval(reload, everyMs) : undefined
    return () => {
      alive.current = false
      if (timer !== undefined) clearInterval(timer)
    }
  }, [reload, everyMs])
  return { ...state, reload }
}

/** A refused or failed request, said plainly with its code. */
export function ErrorNote({ error, what }) {
  const refused = error?.status === 403
  return html`<p class=${refused ? 'note refused' : 'note error'} role="status" data-code=${error?.code ?? ''}>
    <strong>${refused ? 'Refused' : 'Failed'}</strong>${what ? ` (${what})` : ''}: ${error?.code ?? ''}
    ${error?.message ? html` — ${error.message}` : ''}
  </p>`
}

/** Whether the console has not yet changed pages since it loaded. */
let firstPage = true

/**
 * A page's heading, focused when the user opens another page so keyboard and screen reader users
 * land on it (not on the first load: there the skip link comes first).
 */
export function PageTitle({ children }) {
  const ref = useRef(null)
  useEffect(() => {
    if (firstPage) firstPage = false
    else ref.current?.focus()
  }, [])
  return html`<h1 tabindex="-1" ref=${ref}>${children}</h1>`
}

/** Health as a word and a colour (the word carries the meaning; the colour only helps). */
export function Health({ value }) {
  const v = String(value ?? 'unknown')
  return html`<span class=${`badge health-${v}`} data-health=${v}>${v}</span>`
}

export function when(t) {
  if (t === null || t === undefined || t === '') return '—'
  const d = typeof t === 'number' ? new Date(t) : new Date(String(t))
  return Number.isNaN(d.getTime())
    ? String(t)
    : d
        .toISOString()
        .replace('T', ' ')
        .replace(/\.\d+Z$/, 'Z')
}

export const short = (id, n = 12) => (typeof id === 'string' && id.length > n + 4 ? `${id.slice(0, n)}…` : id)

/** A two-column table of label/value rows. */
export function Facts({ rows, label }) {
  return html`<table class="facts" aria-label=${label}>
    <tbody>
      ${rows.map(([k, v]) => html`<tr><th scope="row">${k}</th><td>${v ?? '—'}</td></tr>`)}
    </tbody>
  </table>`
}

export const list = (items) => (Array.isArray(items) && items.length > 0 ? items.join(', ') : '—')
