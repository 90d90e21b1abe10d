/** Reading and checking record values: this node's DHT record store first, the network second. */
import { timeoutSignal } from '@chorus/common'
import type { DHT, RecordValidator } from '@chorus/dht'

export interface RecordValuesComponents {
  dht: Pick<DHT, 'getValue'>
  /** The namespace's validator (throws when the record must not be stored). */
  validate: RecordValidator
}

export interface RecordValuesInit {
  /** Time limit of a network read, in ms. */
  requestTimeout: number
}

const textEncoder = new TextEncoder()

export class RecordValues {
  private readonly components: RecordValuesComponents
  private readonly init: RecordValuesInit

  constructor(components: RecordValuesComponents, init: RecordValuesInit) {
    this.components = components
    this.init = init
  }

  /** Runs the validator on the value; throws what it throws. */
  async validate(key: string, value: Uint8Array): Promise<void> {
    await this.components.validate(textEncoder.encode(key), value)
  }

  /** The valid value this node's DHT record store holds for the key, if any. */
  async held(key: string): Promise<Uint8Array | undefined> {
    try {
      const v = await this.components.dht.getValue(key, { localOnly: true })
      await this.validate(key, v)
      return v
    } catch {
      return undefined
    }
  }

  /** A valid value for the key: this node's DHT record store, else the network; undefined when none. */
  async readValid(key: string, signal?: AbortSignal): Promise<Uint8Array | undefined> {
    const value = await this.read(key, signal)
    if (value == null) return undefined
    try {
      await this.validate(key, value)
      return value
    } catch {
      return undefined
    }
  }

  /** This node's value for the key: its DHT record store, else the network (unchecked). */
  async read(key: string, signal?: AbortSignal): Promise<Uint8Array | undefined> {
    try {
      return await this.components.dht.getValue(key, { localOnly: true, signal })
    } catch {
      // not in the local store
    }
    try {
      return await this.components.dht.getValue(key, {
        signal: timeoutSignal(this.init.requestTimeout, signal)
      })
    } catch {
      return undefined
    }
  }
}
