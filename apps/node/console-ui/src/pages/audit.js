// Audit log verification: the agent checks every entry's signature and the chain to its heads.
import { get } from '../api.js'
import { ErrorNote, Facts, html, PageTitle, useLoad } from '../ui.js'

export function AuditPage() {
  const { data, error, loading, reload } = useLoad(() => get('/v1/audit/verify'))
  const rows = data
    ? Object.entries(data)
        .filter(([k]) => k !== 'ok')
        .map(([k, v]) => [k, typeof v === 'object' ? JSON.stringify(v) : String(v)])
    : []
  return html`
    <${PageTitle}>Audit log</${PageTitle}>
    <button type="button" onClick=${reload} disabled=${loading}>Verify again</button>
    <div aria-live="polite" aria-busy=${loading}>
      ${error && html`<${ErrorNote} error=${error} what="verify" />`}
      ${
        data &&
        html`<p class=${data.ok ? 'note ok' : 'note error'} id="audit-result">
          ${data.ok ? 'The audit log verifies: every entry signed by this agent, the chain intact.' : `The audit log does not verify${data.reason ? `: ${data.reason}` : ''}.`}
        </p>
        <${Facts} label="Verification" rows=${rows} />`
      }
    </div>
  `
}
