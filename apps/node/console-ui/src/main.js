// The CHORUS web console: a small Preact + htm app over the agent's /v1 API (see README).
import 'uplot/dist/uPlot.min.css'
import './app.css'
import { render } from 'preact'
import { useEffect, useState } from 'preact/hooks'
import { ApiError, post, startSession } from './api.js'
import { AuditPage } from './pages/audit.js'
import { ContentPage } from './pages/content.js'
import { HybridPage } from './pages/hybrid.js'
import { MetricsPage } from './pages/metrics.js'
import { OverviewPage } from './pages/overview.js'
import { PeersPage } from './pages/peers.js'
import { StorePage } from './pages/store.js'
import { html } from './ui.js'

const PAGES = [
  { path: 'overview', label: 'Identity & team', Page: OverviewPage },
  { path: 'peers', label: 'Peers', Page: PeersPage },
  { path: 'content', label: 'Content', Page: ContentPage },
  { path: 'store', label: 'Store a decision', Page: StorePage },
  { path: 'hybrid', label: 'Hybrid backend', Page: HybridPage },
  { path: 'audit', label: 'Audit log', Page: AuditPage },
  { path: 'metrics', label: 'Metrics', Page: MetricsPage }
]

/** `#/content?address=...` as { path: 'content', params }. */
function parseHash() {
  const raw = window.location.hash.replace(/^#\/?/, '')
  const q = raw.indexOf('?')
  const path = q < 0 ? raw : raw.slice(0, q)
  return { path: path || 'overview', params: new URLSearchParams(q < 0 ? '' : raw.slice(q + 1)) }
}

/** Changes the hash (a page's own state worth a link: the query, the opened record). */
export function navigate(path, params = {}) {
  const qs = new URLSearchParams(Object.entries(params).filter(([, v]) => v !== undefined && v !== ''))
  const s = qs.toString()
  window.location.hash = `#/${path}${s === '' ? '' : `?${s}`}`
}

function LoggedOut({ error }) {
  return html`<main id="main" class="page narrow">
    <h1>CHORUS console</h1>
    ${
      error?.status === 401 || error?.status === 400
        ? html`<p>You are not logged in, or your session has ended.</p>
            <p>Run <code>chorus-node console</code> on the agent's machine and open the link it prints (it works once, within 60 seconds).</p>`
        : html`<p class="note error" role="alert">The agent did not answer: ${error?.code ?? ''} ${error?.message ?? ''}</p>`
    }
  </main>`
}

function App() {
  const [session, setSession] = useState(undefined)
  const [error, setError] = useState(undefined)
  const [route, setRoute] = useState(parseHash())
  useEffect(() => {
    startSession().then(setSession, (e) =>
      setError(e instanceof ApiError ? e : new ApiError(0, 'ERROR', String(e)))
    )
    const onHash = () => setRoute(parseHash())
    window.addEventListener('hashchange', onHash)
    return () => window.removeEventListener('hashchange', onHash)
  }, [])
  if (error !== undefined) return html`<${LoggedOut} error=${error} />`
  if (session === undefined) return html`<p class="page" role="status">Loading the console…</p>`
  const current = PAGES.find((p) => p.path === route.path) ?? PAGES[0]
  const logout = async () => {
    await post('/v1/console/logout', {}).catch(() => undefined)
    setSession(undefined)
    setError(new ApiError(401, 'LOGGED_OUT', ''))
  }
  return html`
    <a class="skip" href="#main" onClick=${(e) => {
      e.preventDefault()
      document.getElementById('main')?.focus()
    }}>Skip to content</a>
    <header class="top">
      <div class="brand">CHORUS console</div>
      <div class="who" aria-label="This agent">
        <span>${session.agentId}</span> · <span>${session.role}</span>
      </div>
      <button type="button" class="link" onClick=${logout}>Log out</button>
    </header>
    <div class="layout">
      <nav aria-label="Pages">
        <ul>
          ${PAGES.map(
            (p) => html`<li>
              <a href=${`#/${p.path}`} aria-current=${p === current ? 'page' : undefined}>${p.label}</a>
            </li>`
          )}
        </ul>
      </nav>
      <main id="main" tabindex="-1" class="page">
        <${current.Page} key=${current.path} params=${route.params} session=${session} navigate=${navigate} />
      </main>
    </div>
  `
}

render(html`<${App} />`, document.getElementById('app'))
