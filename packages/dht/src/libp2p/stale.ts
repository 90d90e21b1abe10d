import type { Libp2p } from '@libp2p/interface'
import type { RecordRules, RecordValidator } from '../contract.js'
import { EquivocationError } from '../errors.js'
import { inboundPeer } from '../reputation/context.js'
import { checkSuccession, hasSuccession } from '../succession.js'
import { protocolHandler } from './kad-internals.js'

const decoder = new TextDecoder()

/**
 * Record rules whose validators, for a record a peer sends this node (a kad-dht PUT_VALUE, or a
 * record a `handle()` protocol stores, i.e. inside the inbound-peer context), also check that it
 * may succeed the record this node holds for the key (`checkSuccession`: the namespace's
 * succession rule, else the selector on [held, incoming]): `StaleRecordError` when the held one
 * stays, `EquivocationError` when both contradict each other. kad-dht's PUT_VALUE handler replaces
 * the stored record without asking the selector; go-libp2p-kad-dht makes the same check. Records
 * this node fetches (GET_VALUE answers) are not compared: readers need to see stale peers.
 */
export function refuseStaleRecords(
  rules: RecordRules,
  readStored: (key: string) => Promise<Uint8Array | undefined>
): RecordRules {
  const validators: Record<string, RecordValidator> = {}
  for (const [ns, validate] of Object.entries(rules.validators)) {
    validators[ns] = async (keyBytes, value) => {
      await validate(keyBytes, value)
      if (inboundPeer.getStore() == null) return
      const key = decoder.decode(keyBytes)
      if (!hasSuccession(rules, key)) return
      let stored: Uint8Array | undefined
      try {
        stored = await readStored(key)
      } catch {
        return // nothing readable held: nothing to compare with
      }
      if (stored !== undefined) checkSuccession(rules, key, stored, value)
    }
  }
  return { ...rules, validators, selectors: { ...rules.selectors } }
}

/**
 * Record rules whose validators tell `onEquivocation` of every `EquivocationError` they throw
 * (the verdict is unchanged: the error is rethrown).
 */
export function reportEquivocations(
  rules: RecordRules,
  onEquivocation: (err: EquivocationError) => void
): RecordRules {
  const validators: Record<string, RecordValidator> = {}
  for (const [ns, validate] of Object.entries(rules.validators)) {
    validators[ns] = async (keyBytes, value) => {
      try {
        await validate(keyBytes, value)
      } catch (err) {
        if (EquivocationError.isInstance(err)) onEquivocation(err)
        throw err
      }
    }
  }
  return { ...rules, validators }
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
