import { existsSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { createAPIServer } from '../api/server.js'
import { ConfigError, type LoadedConfig, loadConfig } from '../config/load.js'
import {
  AGENT_FILE,
  type AgentInfo,
  ensureAPIToken,
  ensurePrivateDir,
  readAgentInfo,
  writeFileAtomic
} from '../util/files.js'
import { createAgent } from './agent.js'
import { createLogger } from './logger.js'

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/**
 * Run the agent in the foreground until SIGINT/SIGTERM: start it, serve the API, write
 * `<dataDir>/agent.json` for the CLI, reload on SIGHUP, and shut down in dependency order within
 * `shutdownTimeoutMs` (a second signal forces exit). Resolves to the process exit code.
 */
export async function runAgent(loaded: LoadedConfig): Promise<number> {
  let config = loaded.config
  const logger = createLogger(config.log.level, { role: config.role })
  for (const note of loaded.deprecated ?? []) logger.warn(note)
  ensurePrivateDir(config.dataDir)

  const previous = readAgentInfo(config.dataDir)
  if (previous !== undefined && previous.pid !== process.pid && isAlive(previous.pid)) {
    logger.error({ pid: previous.pid, dataDir: config.dataDir }, 'another agent runs on this data directory')
    return 1
  }

  const agent = await createAgent(config, logger)
  const token = ensureAPIToken(config.dataDir)
  const api = createAPIServer({
    service: agent,
    token,
    logger,
    bodyLimitBytes: config.api.bodyLimitBytes,
    metricsAuth: config.api.metricsAuth,
    allowedHosts: config.api.allowedHosts
  })

  let shuttingDown: Promise<number> | undefined
  let resolveDone!: (code: number) => void
  const done = new Promise<number>((r) => {
    resolveDone = r
  })

  const agentFile = join(config.dataDir, AGENT_FILE)
  const shutdown = (reason: string): Promise<number> => {
    if (shuttingDown !== undefined) return shuttingDown
    logger.info({ reason, timeoutMs: config.shutdownTimeoutMs }, 'shutting down')
    const started = Date.now()
    const timer = setTimeout(() => {
      logger.error({ timeoutMs: config.shutdownTimeoutMs }, 'shutdown timed out; exiting anyway')
      process.exit(1)
    }, config.shutdownTimeoutMs)
    timer.unref()
    shuttingDown = (async () => {
      let code = 0
      try {
        // 1. stop taking requests (in-flight HTTP requests, writes included, finish first)
        await api.close()
        // 2..7. finish writes, stop replication, flush the hybrid journal, close storage, libp2p, datastore
        await agent.stop()
      } catch (err) {
        logger.error({ err }, 'error during shutdown')
        code = 1
      }
      if (existsSync(agentFile) && readAgentInfo(config.dataDir)?.pid === process.pid)
        rmSync(agentFile, { force: true })
      clearTimeout(timer)
      logger.info({ ms: Date.now() - started }, 'stopped')
      return code
    })()
    void shuttingDown.then(resolveDone)
    return shuttingDown
  }

  let signals = 0
  const onSignal = (signal: NodeJS.Signals) => {
    signals++
    if (signals > 1) {
      logger.warn({ signal }, 'second signal: forcing exit')
      process.exit(signal === 'SIGINT' ? 130 : 143)
    }
    void shutdown(signal)
  }
  process.on('SIGINT', onSignal)
  process.on('SIGTERM', onSignal)

  let reloading = false
  process.on('SIGHUP', () => {
    if (reloading || shuttingDown !== undefined) return
    reloading = true
    void (async () => {
      try {
        const next = loadConfig({
          ...(loaded.configFile ? { configFile: loaded.configFile } : {}),
          flags: flagsOf(loaded)
        })
        logger.level = next.config.log.level
        await agent.reload(next.config)
        config = { ...config, log: next.config.log, shutdownTimeoutMs: next.config.shutdownTimeoutMs }
        logger.info({ level: next.config.log.level }, 'configuration reloaded')
      } catch (err) {
        if (ConfigError.isInstance(err))
          logger.error(
            { problems: err.problems },
            'reload refused: invalid configuration; keeping the current one'
          )
        else logger.error({ err }, 'reload failed')
      } finally {
        reloading = false
      }
    })()
  })

  try {
    await agent.start()
    if (!['127.0.0.1', '::1', 'localhost'].includes(config.api.host)) {
      logger.warn(
        { host: config.api.host },
        'the API listens beyond loopback; keep the token secret and use TLS in front'
      )
    }
    const url = await api.listen(config.api.host, config.api.port)
    const info: AgentInfo = {
      url,
      pid: process.pid,
      peerId: agent.peerId,
      role: agent.role,
      agentId: agent.agentId,
      multiaddrs: agent.multiaddrs(),
      startedAt: new Date().toISOString()
    }
    writeFileAtomic(agentFile, `${JSON.stringify(info, null, 2)}\n`, 0o600)
    logger.info(
      { url, peerId: agent.peerId, multiaddrs: info.multiaddrs, dataDir: config.dataDir },
      'agent started'
    )
  } catch (err) {
    if (shuttingDown !== undefined) {
      // a signal arrived during start-up: that is a requested stop, not a failure
      logger.info('stopped during start-up')
      const code = await shuttingDown
      process.off('SIGINT', onSignal)
      process.off('SIGTERM', onSignal)
      return code
    }
    if (!ConfigError.isInstance(err)) logger.error({ err }, 'start-up failed')
    await shutdown('start-up failed')
    process.off('SIGINT', onSignal)
    process.off('SIGTERM', onSignal)
    // an invalid roles file or role is a configuration error: the CLI prints it and exits 2
    if (ConfigError.isInstance(err)) throw err
    return 1
  }

  const code = await done
  process.off('SIGINT', onSignal)
  process.off('SIGTERM', onSignal)
  // Libraries may leave a socket or timer behind; do not let it keep a stopped agent alive.
  setTimeout(() => process.exit(code), 2000).unref()
  return code
}

/** The flags of the original command line, re-applied on reload so that they keep their priority. */
function flagsOf(loaded: LoadedConfig): Record<string, string | string[] | undefined> {
  const out: Record<string, string | string[] | undefined> = {}
  for (const [path, source] of Object.entries(loaded.sources)) {
    if (source.startsWith('flag ')) {
      const v = path.split('.').reduce<unknown>((o, k) => (o as Record<string, unknown>)?.[k], loaded.config)
      out[path] = Array.isArray(v) ? v.map(String) : String(v)
    }
  }
  return out
}
