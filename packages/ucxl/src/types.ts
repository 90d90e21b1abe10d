/**
 * Which version of the content at an address is meant.
 * - `latest` (`*^`): the newest version (the default when an address has no temporal segment).
 * - `first` (`*~`): the first version.
 * - `version` (`*~N`): version number N.
 * - `back` (`~~N`): N versions back from the latest.
 * - `forward` (`^^N`): N versions forward from a given version.
 *
 * N is a non-negative safe integer; how a store numbers versions is the store's business.
 */
export type Temporal =
  | { kind: 'latest' }
  | { kind: 'first' }
  | { kind: 'version'; n: number }
  | { kind: 'back'; n: number }
  | { kind: 'forward'; n: number }

/**
 * A parsed, normalised UCXL address. Components hold `[A-Za-z0-9_-]+` or the wildcard `'any'`;
 * `path` is `''` or `/`-separated segments without empty, `.` or `..` segments.
 */
export interface UCXLAddress {
  agent: string
  role: string
  project: string
  task: string
  temporal: Temporal
  path: string
}

/** The part of an address an error is about. `address` means the whole input. */
export type UCXLField = 'address' | 'scheme' | 'agent' | 'role' | 'project' | 'task' | 'temporal' | 'path'

/** The four named components of an address, in order. */
export const COMPONENTS = ['agent', 'role', 'project', 'task'] as const
export type UCXLComponent = (typeof COMPONENTS)[number]
