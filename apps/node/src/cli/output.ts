/** Print a result: JSON with --json, else a readable rendering. */
export function emit(json: boolean, data: unknown, human?: () => string): void {
  if (json || human === undefined) console.log(JSON.stringify(data, null, 2))
  else console.log(human())
}

/** A compact `key: value` rendering of a flat-ish object. */
export function kv(obj: Record<string, unknown>, indent = ''): string {
  return Object.entries(obj)
    .map(([k, v]) => {
      if (v !== null && typeof v === 'object' && !Array.isArray(v) && Object.keys(v).length === 0)
        return `${indent}${k}: {}`
      if (v !== null && typeof v === 'object' && !Array.isArray(v))
        return `${indent}${k}:\n${kv(v as Record<string, unknown>, `${indent}  `)}`
      if (Array.isArray(v))
        return `${indent}${k}: ${v.length === 0 ? '[]' : v.map((x) => (typeof x === 'object' ? JSON.stringify(x) : String(x))).join(', ')}`
      return `${indent}${k}: ${String(v)}`
    })
    .join('\n')
}
