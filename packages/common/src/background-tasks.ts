/**
 * Tracks work that goes on after the call that started it has returned (a put that already met
 * its quorum, a journal replay, a read repair), so that `stop()` can wait for it and metrics can
 * count it. A task's failure is the task's business: it is never re-thrown here.
 */
export class BackgroundTasks {
  readonly #tasks = new Set<Promise<unknown>>()

  /** Tasks in flight. */
  get size(): number {
    return this.#tasks.size
  }

  /** Tracks `task` until it settles; returns it (its rejection is observed here, not lost). */
  track<T>(task: Promise<T>): Promise<T> {
    const settled = task.then(
      () => {},
      () => {}
    )
    this.#tasks.add(settled)
    void settled.finally(() => this.#tasks.delete(settled))
    return task
  }

  /** Resolves when any task in flight settles (at once when none is). */
  async any(): Promise<void> {
    if (this.#tasks.size > 0) await Promise.race(this.#tasks)
  }

  /** Resolves when every task in flight, and every task those start, has settled. */
  async drain(): Promise<void> {
    while (this.#tasks.size > 0) await Promise.allSettled([...this.#tasks])
  }
}
