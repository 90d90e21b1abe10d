import assert from 'node:assert/strict'
import { ChorusError, NotFoundError, OperationTimeoutError, pause, withTimeout } from '@chorus/common'

// A package-specific error: one class, a stable code, the shared base.
class RecordGoneError extends NotFoundError {
  constructor(key: string) {
    super(key, { code: 'EXAMPLE_RECORD_GONE' })
  }
}

try {
  throw new RecordGoneError('/CHORUS/ucxl/abc')
} catch (err) {
  // isInstance() holds across copies of a package, where instanceof may not.
  assert.ok(NotFoundError.isInstance(err))
  assert.ok(ChorusError.isInstance(err))
  assert.equal(err.code, 'EXAMPLE_RECORD_GONE')
  assert.equal(err.name, 'RecordGoneError')
}

// A time limit that holds even when the work ignores its signal.
const slow = (signal: AbortSignal) => pause(5_000, { signal }).then(() => 'too late')
await assert.rejects(
  withTimeout(50, () => new OperationTimeoutError('slow lookup', 50), [], slow),
  (err) => OperationTimeoutError.isInstance(err) && err.ms === 50
)
console.log('ok')
