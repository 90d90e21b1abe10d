/**
 * `compute` with its results remembered for at most `max` arguments; the memo starts over when it
 * is full (cheaper than keeping use order, and the arguments it serves are few: the peers of a
 * network). An undefined result is remembered too.
 */
export function remembered<V>(max: number, compute: (key: string) => V): (key: string) => V {
  const results = new Map<string, V>()
  return (key) => {
    if (results.has(key)) return results.get(key) as V
    const value = compute(key)
    if (results.size >= max) results.clear()
    results.set(key, value)
    return value
  }
}
