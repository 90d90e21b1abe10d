import { disable, enable } from '@libp2p/logger'
import { afterEach, describe, expect, it } from 'vitest'
import { libp2pLogger } from '../../src/libp2p/libp2p-logger.js'

describe('libp2pLogger', () => {
  afterEach(() => disable())

  it('hands a disabled component a silent logger, and an enabled one (or an enabled scope below) a real one', () => {
    disable()
    const quiet = libp2pLogger().forComponent('libp2p:test-component')
    expect(quiet.enabled).toBe(false)
    quiet('nothing %s', 'logged')
    quiet.error('nothing')
    quiet.trace('nothing')
    expect(quiet.newScope('inner').enabled).toBe(false)

    enable('libp2p:test-component:inner')
    expect(libp2pLogger().forComponent('libp2p:test-component').enabled).toBe(false)
    expect(quiet.newScope('inner').enabled).toBe(true)
    enable('libp2p:test-component')
    expect(libp2pLogger().forComponent('libp2p:test-component').enabled).toBe(true)
    enable('libp2p:other:error')
    // errors alone enabled: the component's logger is the real one (its error channel logs)
    expect(libp2pLogger().forComponent('libp2p:other').error).not.toBe(quiet.error)
  })
})
