/** A promise-chain lock: `run` calls execute one after another, in call order. */
export type Mutex = { run<T>(fn: () => Promise<T>): Promise<T> }

export function createMutex(): Mutex {
  let tail: Promise<unknown> = Promise.resolve()
  return {
    run(fn) {
      const result = tail.then(fn, fn)
      tail = result.catch(() => {})
      return result
    },
  }
}

/** One mutex per key, created on first use; `forget` drops a key's mutex once it is no longer needed. */
export function createKeyedMutex() {
  const locks = new Map<string, Mutex>()
  return {
    run<T>(key: string, fn: () => Promise<T>): Promise<T> {
      let lock = locks.get(key)
      if (!lock) {
        lock = createMutex()
        locks.set(key, lock)
      }
      return lock.run(fn)
    },
    forget(key: string) {
      locks.delete(key)
    },
  }
}

export type KeyedMutex = ReturnType<typeof createKeyedMutex>
