/**
 * The console's built pages (`dist/console-ui/`, made by `scripts/build-console.mjs` from
 * `console-ui/`): read once into memory, served by exact name only (no path from a request ever
 * reaches the file system).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { extname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

export interface StaticFile {
  body: Buffer
  type: string
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.txt': 'text/plain; charset=utf-8'
}

/** dist/console-ui next to the compiled module; from src/ (unit tests) the built one in dist/. */
export function consoleDir(): string | undefined {
  return [
    fileURLToPath(new URL('../console-ui/', import.meta.url)),
    fileURLToPath(new URL('../../dist/console-ui/', import.meta.url))
  ].find((d) => existsSync(join(d, 'index.html')))
}

/** Every file under `dir` by its path relative to it (`index.html`, `assets/app.js`). */
export function loadStaticFiles(dir: string | undefined = consoleDir()): Map<string, StaticFile> {
  const files = new Map<string, StaticFile>()
  if (dir === undefined) return files
  for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue
    const full = join(entry.parentPath, entry.name)
    const rel = full
      .slice(dir.length)
      .replace(/^[/\\]+/, '')
      .replace(/\\/g, '/')
    const type = TYPES[extname(entry.name)]
    if (type !== undefined) files.set(rel, { body: readFileSync(full), type })
  }
  return files
}
