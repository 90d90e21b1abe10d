// The hybrid DHT backend: mode, active backend, each backend's health, fail-overs and the switches
// the agent saw (its sampled history), and switching the mode.
import { useState } from 'preact/hooks'
import { get, post } from '../api.js'
import { ErrorNote, Facts, Health, html, PageTitle, useLoad, when } from '../ui.js'

export function HybridPage() {
  const hybrid = useLoad(() => get('/v1/hybrid'), [], 5_000)
  const history = useLoad(() => get('/v1/console/metrics'), [], 5_000)
  const [mode, setMode] = useState('')
  const [switching, setSwitching] = useState({})
  const h = hybrid.data
  const change = async (e) => {
    e.preventDefault()
    setSwitching({ busy: true })
    try {
      await post('/v1/hybrid/backend', { mode: mode || h.mode })
      setSwitching({ done: true })
      hybrid.reload()
    } catch (err) {
      setSwitching({ error: err })
    }
  }
  return html`
    <${PageTitle}>Hybrid backend</${PageTitle}>
    ${hybrid.error && html`<${ErrorNote} error=${hybrid.error} what="hybrid" />`}
    ${
      h &&
      html`
        <${Facts} label="Backend" rows=${[
          ['Mode', h.mode],
          ['Active backend', html`<strong id="active-backend">${h.activeBackend}</strong>`],
          ['Writes waiting in the journal', h.pendingWrites],
          ['Fail-overs (network to local)', h.metrics?.failovers],
          ['Fail-backs (local to network)', h.metrics?.failbacks],
          ['Last fail-over', when(h.metrics?.lastFailoverAt)],
          ['Last fail-back', when(h.metrics?.lastFailbackAt)]
        ]} />
        <table>
          <caption>Backends</caption>
          <thead><tr><th scope="col">Backend</th><th scope="col">Health</th><th scope="col">Latency</th><th scope="col">Operations</th><th scope="col">Errors</th></tr></thead>
          <tbody>${Object.entries(h.backends ?? {}).map(
            ([
              name,
              b
            ]) => html`<tr><th scope="row">${name === 'real' ? 'real (network)' : 'mock (local)'}</th>
              <td><${Health} value=${b.status} /></td><td>${b.latency} ms</td>
              <td>${h.metrics?.backends?.[name]?.operations ?? '—'}</td><td>${h.metrics?.backends?.[name]?.errors ?? '—'}</td></tr>`
          )}</tbody>
        </table>
        <form onSubmit=${change} class="inline" aria-label="Switch the backend mode">
          <label for="mode">Mode</label>
          <select id="mode" value=${mode || h.mode} onChange=${(e) => setMode(e.currentTarget.value)}>
            <option value="auto">auto: health decides</option>
            <option value="real">real: the network</option>
            <option value="mock">mock: local only</option>
          </select>
          <button type="submit" disabled=${switching.busy}>Switch</button>
        </form>
        <div aria-live="polite">
          ${switching.error && html`<${ErrorNote} error=${switching.error} what="switch" />`}
          ${switching.done && html`<p class="note ok">Mode set.</p>`}
        </div>
      `
    }
    <h2>Fail-over history</h2>
    ${history.error && html`<${ErrorNote} error=${history.error} what="history" />`}
    ${
      history.data &&
      (history.data.backendSwitches.length === 0
        ? html`<p>No switch of the active backend since the agent started.</p>`
        : html`<table class="switches">
            <caption>Switches of the active backend the agent saw</caption>
            <thead><tr><th scope="col">When</th><th scope="col">From</th><th scope="col">To</th><th scope="col">Mode</th><th scope="col">Fail-overs / fail-backs so far</th></tr></thead>
            <tbody>${history.data.backendSwitches.map(
              (s) =>
                html`<tr><td>${when(s.at)}</td><td>${s.from}</td><td>${s.to}</td><td>${s.mode}</td><td>${s.failovers} / ${s.failbacks}</td></tr>`
            )}</tbody>
          </table>`)
    }
  `
}
