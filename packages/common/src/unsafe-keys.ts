/** Keys that reach an object's prototype when assigned (`obj[key] = v`) rather than a property. */
const UNSAFE_KEYS = new Set(['__proto__', 'constructor', 'prototype'])

/**
 * The dotted path of the first key in a parsed document (YAML, JSON) that could reach an object
 * prototype when copied by assignment (`__proto__`, `constructor`, `prototype`), or undefined.
 * Configuration and policy files are checked with it before anything copies them.
 */
export function findUnsafeKey(value: unknown): string | undefined {
  return walk(value, '', new WeakSet<object>())
}

// YAML anchors and aliases can make a document refer to itself: each object is visited once.
function walk(value: unknown, prefix: string, seen: WeakSet<object>): string | undefined {
  if (typeof value !== 'object' || value === null || seen.has(value)) return undefined
  seen.add(value)
  if (Array.isArray(value)) {
    for (const [i, v] of value.entries()) {
      const found = walk(v, `${prefix}[${i}]`, seen)
      if (found !== undefined) return found
    }
    return undefined
  }
  for (const key of Object.keys(value)) {
    const path = prefix === '' ? key : `${prefix}.${key}`
    if (UNSAFE_KEYS.has(key)) return path
    const found = walk((value as Record<string, unknown>)[key], path, seen)
    if (found !== undefined) return found
  }
  return undefined
}

/** Whether a key would reach an object prototype when assigned. */
export function isUnsafeKey(key: string): boolean {
  return UNSAFE_KEYS.has(key)
}
