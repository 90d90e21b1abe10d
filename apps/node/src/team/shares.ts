import { readFileSync } from 'node:fs'

/** A root share given on the command line: its text, or a file holding it. */
export function shareText(s: string): string {
  return s.startsWith('chorus-team-share') ? s : readFileSync(s, 'utf8').trim()
}
