import type { Libp2p } from '@libp2p/interface'
import type { RecordRules, RecordValidator } from '../contract.js'
import { StaleRecordError } from '../errors.js'
import { inboundPeer } from '../reputation/context.js'
import { protocolHandler } from './kad-internals.js'

const decoder = new TextDecoder()

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.byteLength === b.byteLength && Buffer.from(a).equals(b)
}

/**
 * Record rules whose validators, for a record a peer sends this node (a kad-dht PUT_VALUE, or a
 * record a `handle()` protocol stores, i.e. inside the inbound-peer context), also run the
 * namespace selector on [the record this node holds, the incoming one] and refuse the incoming one
 * with `StaleRecordError` when the held one ranks first. kad-dht's PUT_VALUE handler replaces the
 * stored record without asking the selector; go-libp2p-kad-dht makes the same check. Records this
 * node fetches (GET_VALUE answers) are not compared: readers need to see stale peers.
 */
export function refuseStaleRecords(
  rules: RecordRules,
  readStored: (key: string) => Promise<Uint8Array | undefined>
): RecordRules {
  const validators: Record<string, RecordValidator> = {}
  for (const [ns, validate] of Object.entries(rules.validators)) {
    const select = rules.selectors[ns]
    validators[ns] = async (keyBytes, value) => {
      await validate(keyBytes, value)
      if (select == null || inboundPeer.getStore() == null) return
      const key = decoder.decode(keyBytes)
      let stored: Uint8Array | undefined
      try {
        stored = await readStored(key)
      } catch {
        return // nothing readable held: nothing to compare with
      }
      if (stored === undefined || sameBytes(stored, value)) return
      if (select(keyBytes, [stored, value]) === 0) throw new StaleRecordError(key)
    }
  }
  return { validators, selectors: { ...rules.selectors } }
}

/**
 * Without the reputation system (which already does it), runs the handlers of the given inbound
 * protocols inside the inbound-peer context, so `refuseStaleRecords` knows a record came from a
 * peer. Returns a function that restores the handlers.
 */
export async function markInbound(node: Libp2p, protocols: string[]): Promise<() => Promise<void>> {
  const undo: Array<() => Promise<void>> = []
  for (const protocol of protocols) {
    const original = protocolHandler(node, protocol)
    if (original == null) continue
    const inner = original.handler
    await node.handle(
      protocol,
      (stream, connection) =>
        inboundPeer.run(connection.remotePeer.toString(), () => inner(stream, connection)),
      { ...original.options, force: true }
    )
    undo.push(async () => {
      if (node.status === 'started') await node.handle(protocol, inner, { ...original.options, force: true })
    })
  }
  return async () => {
    for (const u of undo.reverse()) await u()
  }
}
