// Identity and team: who this agent is, its certificate, its team's keys and revocations.
import { get } from '../api.js'
import { ErrorNote, Facts, html, list, PageTitle, useLoad, when } from '../ui.js'

export function OverviewPage() {
  const { data: s, error, reload, loading } = useLoad(() => get('/v1/status'))
  return html`
    <${PageTitle}>Identity & team</${PageTitle}>
    <button type="button" onClick=${reload} disabled=${loading}>Refresh</button>
    ${error && html`<${ErrorNote} error=${error} what="status" />`}
    ${
      s &&
      html`
        <section aria-labelledby="identity-h">
          <h2 id="identity-h">Identity</h2>
          <${Facts}
            label="Identity"
            rows=${[
              ['Agent', s.agentId],
              ['Role', s.role],
              ['Held roles', list(s.heldRoles)],
              ['Capabilities', list(s.capabilities)],
              ['Peer id', html`<code>${s.peerId}</code>`],
              ['Ready', s.ready ? 'yes' : 'no'],
              ['Up for', `${s.uptimeSeconds} s`],
              [
                'Listening on',
                html`<ul class="plain">${(s.multiaddrs ?? []).map((m) => html`<li><code>${m}</code></li>`)}</ul>`
              ]
            ]}
          />
        </section>
        <section aria-labelledby="team-h">
          <h2 id="team-h">Team</h2>
          ${
            s.team
              ? html`<${Facts}
                    label="Team"
                    rows=${[
                      ['Team id', html`<code>${s.team.id}</code>`],
                      ['Manifest version', s.team.manifestVersion],
                      [
                        'Certificate',
                        `${s.team.certificate.agent} as ${list(s.team.certificate.roles)} (serial ${s.team.certificate.serial})`
                      ],
                      [
                        'Certificate valid',
                        `${when(s.team.certificate.notBefore)} to ${when(s.team.certificate.notAfter)}`
                      ],
                      ['Key grant version', s.team.grantVersion],
                      [
                        'Revoked agents',
                        `${list(s.team.revocations.revoked)} (list v${s.team.revocations.version})`
                      ]
                    ]}
                  />
                  <table>
                    <caption>Role keys</caption>
                    <thead><tr><th scope="col">Role</th><th scope="col">Current key</th><th scope="col">Made</th><th scope="col">Retired keys</th></tr></thead>
                    <tbody>
                      ${Object.entries(s.team.roleKeys ?? {}).map(
                        ([role, k]) => html`<tr>
                          <th scope="row">${role}</th>
                          <td><code>${k.current.map((c) => c.keyId).join(', ') || '—'}</code></td>
                          <td>${k.current.map((c) => when(c.createdAt)).join(', ') || '—'}</td>
                          <td>${k.retired}</td>
                        </tr>`
                      )}
                    </tbody>
                  </table>`
              : html`<p>This agent runs without a team.</p>`
          }
        </section>
        <section aria-labelledby="net-h">
          <h2 id="net-h">Network</h2>
          <${Facts}
            label="Network"
            rows=${[
              ['Joined', s.network.joined ? 'yes' : 'no'],
              ['Bootstrapped', s.network.bootstrapped ? 'yes' : 'no'],
              ['Connected peers', s.network.connectedPeers],
              ['Routing table', s.network.dht?.routingTableSize],
              ['Bootstrap peers', `${(s.network.bootstrapPeers ?? []).length} (${s.network.bootstrapSource})`]
            ]}
          />
        </section>
      `
    }
  `
}
