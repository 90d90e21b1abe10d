import { existsSync, mkdirSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  type AgentProcess,
  dialAddress,
  fastEnv,
  makeTeam,
  runCli,
  startAgentProcess,
  stopAllAgents,
  type Team,
  waitFor
} from './helpers.js'

// The web console in a real browser (Debian's chromium driven by playwright-core) against two real
// agent processes: log in through the link `chorus-node console` prints, store a decision through
// the form on the writer's console, see it listed on the other agent's console, watch its
// replication health reach healthy, and see that agent's refused read shown as refused. Each page
// is written to docs/console/<name>.png. dev.sh installs chromium (as root); without it and
// without root the file is skipped with a message.
const CHROMIUM = process.env.CHORUS_CHROMIUM ?? '/usr/bin/chromium'
const haveChromium = existsSync(CHROMIUM)
const isRoot = process.getuid?.() === 0
if (!haveChromium && !isRoot) {
  console.warn(`console.test.ts skipped: ${CHROMIUM} is missing (bash dev.sh test installs it as root)`)
}
const SHOTS = fileURLToPath(new URL('../../../docs/console/', import.meta.url))
const ADDRESS = 'ucxl://agent001:backend_developer@console:adopt-queue/*^/decision'
const DECISION = 'Use NATS JetStream for the work queue'
/** The address without its temporal segment, as the index lists it. */
const BASE = 'ucxl://agent001:backend_developer@console:adopt-queue'
type Status = { network: { connectedPeers: number; dht: { routingTableSize: number } } }

describe.skipIf(!haveChromium && !isRoot)('web console in a real browser, two agents', () => {
  let team: Team
  let writer: AgentProcess
  let other: AgentProcess
  let browser: Browser
  const contexts: BrowserContext[] = []
  /** Script errors and console errors (a CSP violation among them) of the logged-in pages. */
  const pageErrors: string[] = []

  /** `chorus-node console --json` for an agent: its single-use login link. */
  async function loginLink(agent: AgentProcess): Promise<string> {
    const res = await runCli(['console', '--json', '--data-dir', agent.dataDir])
    expect(res.code, res.stderr).toBe(0)
    const { url } = JSON.parse(res.stdout) as { url: string }
    expect(url).toMatch(/\/console\/login\?ticket=[A-Za-z0-9_-]{43}$/)
    expect(url).not.toContain(agent.token)
    return url
  }

  /** A fresh browser profile logged in to the agent's console. */
  async function logIn(agent: AgentProcess): Promise<Page> {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } })
    contexts.push(context)
    const page = await context.newPage()
    page.on('pageerror', (err) => pageErrors.push(`${agent.name}: ${err.message}`))
    page.on('console', (m) => {
      // an HTTP error status (the refused read) is expected; anything else (a CSP violation) is not
      if (m.type() === 'error' && !m.text().startsWith('Failed to load resource'))
        pageErrors.push(`${agent.name}: ${m.text()}`)
    })
    const res = await page.goto(await loginLink(agent))
    expect(res?.status()).toBe(200)
    // the ticket is gone from the address bar once exchanged
    expect(new URL(page.url()).pathname).toBe('/console/')
    expect(page.url()).not.toContain('ticket')
    await page.getByRole('heading', { level: 1, name: 'Identity & team' }).waitFor()
    return page
  }

  /** A link of the console's page navigation. */
  const nav = (page: Page, name: string) =>
    page.getByRole('navigation', { name: 'Pages' }).getByRole('link', { name, exact: true })

  const shot = (page: Page, name: string) => page.screenshot({ path: `${SHOTS}${name}.png`, fullPage: true })

  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true })
    if (!haveChromium)
      throw new Error(`${CHROMIUM} is missing: run bash dev.sh test (installs chromium as root)`)
    team = await makeTeam(['backend_developer', 'frontend_developer'])
    const env = (role: string, peers: string[]) =>
      fastEnv({
        CHORUS_ROLE: role,
        CHORUS_BOOTSTRAP_PEERS: peers.join(','),
        CHORUS_REPLICATION_REPLICATION_FACTOR: '2',
        CHORUS_LOG_LEVEL: 'warn'
      })
    writer = await startAgentProcess({
      name: 'backend_developer',
      dataDir: team.dataDir('backend_developer'),
      env: env('backend_developer', [])
    })
    other = await startAgentProcess({
      name: 'frontend_developer',
      dataDir: team.dataDir('frontend_developer'),
      env: env('frontend_developer', [dialAddress(writer.info)])
    })
    for (const a of [writer, other]) {
      const ok = await waitFor(async () => {
        const n = (await a.api<Status>('GET', '/v1/status')).body.network
        return n.connectedPeers >= 1 && n.dht.routingTableSize >= 1
      }, 60_000)
      expect(ok, `${a.name} found its peer`).toBe(true)
    }
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] })
  }, 240_000)

  afterAll(async () => {
    for (const c of contexts) await c.close().catch(() => undefined)
    await browser?.close()
    await Promise.all([writer, other].filter(Boolean).map((a) => a.stop()))
    await stopAllAgents()
    team?.cleanup()
  }, 60_000)

  it('a login link works once; the console sets a strict CSP; a cookie-only write without the CSRF header is refused', async () => {
    const url = await loginLink(writer)
    const context = await browser.newContext()
    contexts.push(context)
    const page = await context.newPage()
    const first = await page.goto(url)
    expect(first?.status()).toBe(200)
    const headers = first!.headers()
    expect(headers['content-security-policy']).toContain("default-src 'none'")
    expect(headers['content-security-policy']).toContain("script-src 'self'")
    const cookies = await context.cookies()
    expect(cookies.find((c) => c.name === 'chorus_console')).toMatchObject({
      httpOnly: true,
      sameSite: 'Strict'
    })
    // the same link again, in another browser profile: refused
    const again = await (await browser.newContext()).newPage()
    expect((await again.goto(url))?.status()).toBe(401)
    await again.context().close()
    // the page's own session can read; a state change without the CSRF header is refused
    const codes = await page.evaluate(async () => {
      const read = await fetch('/v1/status')
      const write = await fetch('/v1/hybrid/backend', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ mode: 'auto' })
      })
      return [read.status, write.status]
    })
    expect(codes).toEqual([200, 403])
  }, 60_000)

  it('stores a decision through the form, lists it on the other console, watches replication reach healthy, shows the refused read', async () => {
    const a = await logIn(writer)
    await shot(a, 'overview')

    // the form refuses what the agent's validator refuses, before anything is sent
    await nav(a, 'Store a decision').click()
    await a.getByLabel('Address').fill(ADDRESS)
    await a.getByRole('button', { name: 'Store decision' }).click()
    await expect(a.locator('#f-task-error').textContent()).resolves.toMatch(/Task must not be empty/)
    expect(await a.getByLabel('Task').getAttribute('aria-invalid')).toBe('true')
    await a.getByLabel('Task').fill('adopt-queue')
    await a.getByLabel('Decision', { exact: true }).fill(DECISION)
    await a.getByLabel('Rationale').fill('Persistent streams and replay without another cluster to run')
    await a
      .getByLabel('Alternatives')
      .fill('RabbitMQ: one more cluster to operate\nKafka: heavier than we need')
    await a.getByRole('button', { name: 'Store decision' }).click()
    await a.locator('#store-result').waitFor({ timeout: 60_000 })
    expect(await a.locator('#store-result').textContent()).toMatch(/as version 1/)
    await shot(a, 'store')

    // the writer's record: its plaintext, and its replication health reaching healthy
    await a.locator('#store-result a').click()
    await a.locator('.plaintext[data-read="ok"]').waitFor({ timeout: 60_000 })
    expect(await a.locator('.plaintext pre').textContent()).toContain(DECISION)
    await a.locator('#replication-health [data-health="healthy"]').waitFor({ timeout: 90_000 })
    // opened from the store result, the list is by address pattern: the record is in it
    expect(await a.getByLabel('by address pattern').isChecked()).toBe(true)
    await a.locator(`a.record-link[data-address^="${BASE}"]`).first().waitFor()
    await shot(a, 'content-record')

    // the other agent's console lists it by role, and shows its own read refused
    const b = await logIn(other)
    await nav(b, 'Content').click()
    await b.getByLabel('Role (empty: every role)').fill('backend_developer')
    await b.getByRole('button', { name: 'Find' }).click()
    const listed = await waitFor(
      async () => {
        await b.getByRole('button', { name: 'Refresh list' }).click()
        await b.waitForTimeout(500)
        return (await b.locator(`a.record-link[data-address^="${BASE}"]`).count()) > 0
      },
      60_000,
      1_000
    )
    expect(listed, 'the decision listed on the other agent').toBe(true)
    await b.locator('a.record-link').first().click()
    await b.locator('.plaintext[data-read="refused"]').waitFor({ timeout: 60_000 })
    const refusal = b.locator('.plaintext .note.refused')
    expect(await refusal.textContent()).toMatch(/Refused.*UCXL-403-ACCESS_DENIED/)
    expect(await b.locator('.record').textContent()).not.toContain(DECISION)
    await b.locator('#replication-health [data-health="healthy"]').waitFor({ timeout: 90_000 })
    await shot(b, 'content-refused')
    // and by search on the writing agent's name
    await b.getByLabel('by search').check()
    await b.getByLabel('Agent', { exact: true }).fill('agent001')
    await b.getByRole('button', { name: 'Find' }).click()
    await b.locator(`a.record-link[data-address^="${BASE}"]`).first().waitFor({ timeout: 30_000 })

    // the remaining pages, each rendered without an error
    for (const [link, name, ready] of [
      ['Peers', 'peers', 'table.peers tbody tr'],
      ['Audit log', 'audit', '#audit-result'],
      ['Metrics', 'metrics', 'figure.chart canvas']
    ] as const) {
      await nav(a, link).click()
      await a.locator(ready).first().waitFor({ timeout: 30_000 })
      expect(await a.locator('.note.error').count(), `${name}: no error shown`).toBe(0)
      await shot(a, name)
    }
    // the hybrid backend: switched to local through the form (a CSRF-checked write), seen in the
    // fail-over history the agent samples, then given back to health
    await nav(a, 'Hybrid backend').click()
    await a.getByLabel('Mode', { exact: true }).selectOption('mock')
    await a.getByRole('button', { name: 'Switch' }).click()
    await a.getByText('Mode set.').waitFor()
    await waitFor(async () => (await a.locator('#active-backend').textContent()) === 'mock', 20_000)
    await a.locator('table.switches tbody tr').first().waitFor({ timeout: 30_000 })
    expect(await a.locator('table.switches tbody tr').first().textContent()).toMatch(/real\s*mock/)
    await shot(a, 'hybrid')
    await a.getByLabel('Mode', { exact: true }).selectOption('auto')
    await a.getByRole('button', { name: 'Switch' }).click()
    await waitFor(async () => (await a.locator('#active-backend').textContent()) === 'real', 30_000)

    // keyboard: the skip link comes first and leads to the page; a page opens from the keyboard
    // with its heading focused
    await a.reload()
    await a.getByRole('heading', { level: 1, name: 'Hybrid backend' }).waitFor()
    await a.keyboard.press('Tab')
    // the element with the keyboard focus (no DOM types here: the test runs in Node)
    const focus = () => a.locator(':focus')
    expect(await focus().textContent()).toBe('Skip to content')
    await a.keyboard.press('Enter')
    expect(await focus().getAttribute('id')).toBe('main')
    await nav(a, 'Audit log').focus()
    await a.keyboard.press('Enter')
    await a.getByRole('heading', { level: 1, name: 'Audit log' }).waitFor()
    const focused = () => focus().evaluate((el) => (el as { tagName: string }).tagName)
    expect(await waitFor(async () => (await focused()) === 'H1', 5_000), 'the heading has the focus').toBe(
      true
    )

    expect(pageErrors, 'no script error or CSP violation in the pages').toEqual([])
    await nav(a, 'Metrics').click()
    expect(await a.locator('#audit-result').count()).toBe(0) // left the audit page
    await nav(a, 'Audit log').click()
    expect(await a.locator('#audit-result').textContent()).toMatch(/verifies/)
    await nav(a, 'Peers').click()
    const row = await a.locator('table.peers tbody tr').first().textContent()
    expect(row).toContain('frontend_developer')
    expect(row).toMatch(/clean \(0 points\)/)
  }, 300_000)
})
