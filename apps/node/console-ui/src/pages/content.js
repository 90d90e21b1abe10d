// Content: find records by role, by search fields or by address pattern; open one to see its
// versions, its holders and replication health (refreshed while open), and its plaintext when
// this agent may read it (a refusal is shown as one).
import { useState } from 'preact/hooks'
import { get } from '../api.js'
import { ErrorNote, Facts, Health, html, list, PageTitle, short, useLoad, when } from '../ui.js'

const SEARCH_FIELDS = [
  ['agent', 'Agent'],
  ['role', 'Creator role'],
  ['project', 'Project'],
  ['task', 'Task'],
  ['contentType', 'Content type'],
  ['decisionTask', "Decision's task"]
]

function query(mode, params) {
  if (mode === 'role') return get('/v1/list', { role: params.get('role') ?? '', limit: 200 })
  if (mode === 'pattern') return get('/v1/search', { address: params.get('pattern') ?? '', limit: 200 })
  const q = { limit: 200 }
  for (const [k] of SEARCH_FIELDS) q[k] = params.get(k) ?? ''
  return get('/v1/search', q)
}

function QueryForm({ params, navigate }) {
  const [mode, setMode] = useState(params.get('mode') ?? 'role')
  const [values, setValues] = useState(Object.fromEntries(params.entries()))
  const set = (k) => (e) => setValues({ ...values, [k]: e.currentTarget.value })
  const submit = (e) => {
    e.preventDefault()
    const keep = mode === 'role' ? ['role'] : mode === 'pattern' ? ['pattern'] : SEARCH_FIELDS.map(([k]) => k)
    navigate('content', { mode, ...Object.fromEntries(keep.map((k) => [k, values[k] ?? ''])) })
  }
  const input = (id, label, extra = {}) => html`<div class="field">
    <label for=${`q-${id}`}>${label}</label>
    <input id=${`q-${id}`} name=${id} value=${values[id] ?? ''} onInput=${set(id)} ...${extra} />
  </div>`
  return html`<form onSubmit=${submit} aria-label="Find content">
    <fieldset class="modes">
      <legend>Find content</legend>
      ${[
        ['role', 'by role'],
        ['search', 'by search'],
        ['pattern', 'by address pattern']
      ].map(
        ([m, label]) => html`<label class="radio">
          <input type="radio" name="mode" value=${m} checked=${mode === m} onChange=${() => setMode(m)} /> ${label}
        </label>`
      )}
    </fieldset>
    ${mode === 'role' && input('role', 'Role (empty: every role)', { maxLength: 512 })}
    ${mode === 'pattern' && input('pattern', 'Address pattern (any components, * and ** path segments)', { required: true, maxLength: 2048, placeholder: 'ucxl://any:backend_developer@project123:*/*^/**' })}
    ${mode === 'search' && html`<div class="grid">${SEARCH_FIELDS.map(([k, label]) => input(k, label, { maxLength: 512 }))}</div>`}
    <button type="submit">Find</button>
  </form>`
}

function Results({ params, navigate }) {
  const mode = params.get('mode') ?? 'role'
  // opening a record changes the hash too, but not the query
  const key = [...params.entries()].filter(([k]) => k !== 'open').join('&')
  const { data, error, loading, reload } = useLoad(() => query(mode, params), [key])
  return html`<section aria-labelledby="results-h" aria-busy=${loading}>
    <h2 id="results-h">Records</h2>
    <button type="button" onClick=${reload} disabled=${loading}>Refresh list</button>
    ${error && html`<${ErrorNote} error=${error} what="query" />`}
    ${
      data &&
      html`<table class="records">
        <caption>${data.count} record(s)</caption>
        <thead><tr><th scope="col">Address</th><th scope="col">Type</th><th scope="col">Creator role</th>
          <th scope="col">Version</th><th scope="col">Size</th><th scope="col">Stored</th></tr></thead>
        <tbody>
          ${data.items.map(
            (i) => html`<tr>
              <td><a href="#" class="record-link" data-address=${i.baseAddress ?? i.address}
                onClick=${(e) => {
                  e.preventDefault()
                  navigate('content', {
                    ...Object.fromEntries(params.entries()),
                    open: i.baseAddress ?? i.address
                  })
                }}>${i.baseAddress ?? i.address}</a></td>
              <td>${i.contentType}</td><td>${i.creatorRole}</td><td>${i.version ?? '—'}</td>
              <td>${i.size} B</td><td>${when(i.timestamp)}</td>
            </tr>`
          )}
        </tbody>
      </table>`
    }
  </section>`
}

function Plaintext({ address }) {
  const { data, error, loading } = useLoad(() => get('/v1/content', { address }), [address])
  if (loading && !data && !error) return html`<p role="status">Reading…</p>`
  if (error)
    return html`<div class="plaintext" data-read="refused"><${ErrorNote} error=${error} what="read" /></div>`
  let text = data.content
  if (data.metadata?.contentType === 'decision' || data.metadata?.contentType?.includes('json')) {
    try {
      text = JSON.stringify(JSON.parse(data.content), null, 2)
    } catch {
      // shown as stored
    }
  }
  return html`<div class="plaintext" data-read="ok">
    <p>Read as <strong>${data.metadata?.creatorRole ?? '?'}</strong>'s content, version ${data.metadata?.version}, from ${data.metadata?.source ?? 'the network'}:</p>
    <pre tabindex="0" aria-label="Plaintext">${text}</pre>
  </div>`
}

function Record({ address, navigate, params }) {
  const versions = useLoad(() => get('/v1/versions', { address, limit: 50 }), [address])
  const repl = useLoad(() => get('/v1/replication', { address }), [address], 3_000)
  const r = repl.data
  return html`<section class="record" aria-labelledby="record-h">
    <h2 id="record-h">Record <code>${address}</code></h2>
    <button type="button" onClick=${() => {
      const rest = Object.fromEntries(params.entries())
      delete rest.open
      navigate('content', rest)
    }}>Close record</button>
    <h3>Replication health</h3>
    ${repl.error && html`<${ErrorNote} error=${repl.error} what="replication" />`}
    ${
      r &&
      html`<div aria-live="polite" id="replication-health">
        <${Facts} label="Replication" rows=${[
          ['Health', html`<${Health} value=${r.health} />`],
          ['Live holders', `${r.actualReplicas} of ${r.targetReplicas} wanted`],
          ['Held here', r.isLocal ? 'yes' : 'no'],
          ['Last announced', when(r.lastReprovided)]
        ]} />
      </div>
      <table>
        <caption>Holders</caption>
        <thead><tr><th scope="col">Peer</th><th scope="col">Quality</th><th scope="col">Distance</th><th scope="col">Last seen</th></tr></thead>
        <tbody>${(r.providers ?? []).map(
          (p) => html`<tr><td><code title=${p.peerId}>${short(p.peerId, 16)}</code></td>
            <td>${Number(p.quality).toFixed(2)}</td><td>${p.distance}</td><td>${when(p.lastSeen)}</td></tr>`
        )}</tbody>
      </table>`
    }
    <h3>Versions</h3>
    ${versions.error && html`<${ErrorNote} error=${versions.error} what="versions" />`}
    ${
      versions.data &&
      html`<table>
        <caption>${versions.data.count} version(s) in this agent's index</caption>
        <thead><tr><th scope="col">Version</th><th scope="col">Creator role</th><th scope="col">Encrypted for</th><th scope="col">Size</th><th scope="col">Stored</th></tr></thead>
        <tbody>${versions.data.items.map(
          (v) => html`<tr><td>${v.version}</td><td>${v.creatorRole}</td><td>${list(v.encryptedFor)}</td>
            <td>${v.size} B</td><td>${when(v.timestamp)}</td></tr>`
        )}</tbody>
      </table>`
    }
    <h3>Plaintext</h3>
    <${Plaintext} address=${address} />
  </section>`
}

export function ContentPage({ params, navigate }) {
  const open = params.get('open')
  return html`
    <${PageTitle}>Content</${PageTitle}>
    <${QueryForm} params=${params} navigate=${navigate} key=${params.get('mode') ?? ''} />
    ${open && html`<${Record} address=${open} navigate=${navigate} params=${params} key=${open} />`}
    <${Results} params=${params} navigate=${navigate} />
  `
}
