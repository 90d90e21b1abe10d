// Peers: the connected ones with roles, capabilities, latency and reputation; and a DHT lookup of
// the peers that announced a role or a capability.
import { useState } from 'preact/hooks'
import { get } from '../api.js'
import { ErrorNote, html, list, PageTitle, short, useLoad } from '../ui.js'

function Reputation({ r }) {
  if (r === undefined) return '—'
  if (r.banned) return html`<span class="badge health-critical">banned</span> ${r.score} points`
  return r.score === 0 ? 'clean (0 points)' : `${r.score} penalty points`
}

export function PeersPage() {
  const { data, error, reload, loading } = useLoad(() => get('/v1/peers'), [], 5_000)
  const [by, setBy] = useState('role')
  const [name, setName] = useState('')
  const [found, setFound] = useState(undefined)
  const lookup = async (e) => {
    e.preventDefault()
    setFound({ loading: true })
    try {
      setFound({ data: await get(`/v1/peers/${by}/${encodeURIComponent(name.trim())}`) })
    } catch (err) {
      setFound({ error: err })
    }
  }
  return html`
    <${PageTitle}>Peers</${PageTitle}>
    <button type="button" onClick=${reload} disabled=${loading}>Refresh</button>
    ${error && html`<${ErrorNote} error=${error} what="peers" />`}
    ${
      data &&
      html`<table class="peers">
        <caption>${data.count} connected peer(s)</caption>
        <thead>
          <tr>
            <th scope="col">Peer</th><th scope="col">Agent</th><th scope="col">Role</th>
            <th scope="col">Certified roles</th><th scope="col">Capabilities</th>
            <th scope="col">Latency</th><th scope="col">Reputation</th>
          </tr>
        </thead>
        <tbody>
          ${data.peers.map(
            (p) => html`<tr>
              <td><code title=${p.id}>${short(p.id, 16)}</code></td>
              <td>${p.agent || '—'}</td>
              <td>${p.role || '—'}</td>
              <td>${list(p.certifiedRoles)}</td>
              <td>${list(p.capabilities)}</td>
              <td>${typeof p.latencyMs === 'number' ? `${p.latencyMs} ms` : 'not measured yet'}</td>
              <td><${Reputation} r=${p.reputation} /></td>
            </tr>`
          )}
        </tbody>
      </table>`
    }
    <section aria-labelledby="find-h">
      <h2 id="find-h">Find peers on the DHT</h2>
      <form onSubmit=${lookup} class="inline">
        <label for="find-by">Announced</label>
        <select id="find-by" value=${by} onChange=${(e) => setBy(e.currentTarget.value)}>
          <option value="role">role</option>
          <option value="capability">capability</option>
        </select>
        <label for="find-name">Name</label>
        <input id="find-name" required pattern="[A-Za-z0-9_.:\\-]{1,128}" value=${name}
          onInput=${(e) => setName(e.currentTarget.value)} />
        <button type="submit">Find</button>
      </form>
      ${found?.loading && html`<p role="status">Looking up…</p>`}
      ${found?.error && html`<${ErrorNote} error=${found.error} what="lookup" />`}
      ${
        found?.data &&
        html`<ul aria-live="polite">
          ${found.data.peers.length === 0 ? html`<li>no peer announced it</li>` : ''}
          ${found.data.peers.map((p) => html`<li><code>${p.id}</code> ${p.role ? `(${p.role})` : ''}</li>`)}
        </ul>`
      }
    </section>
  `
}
