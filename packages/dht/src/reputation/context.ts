import { AsyncLocalStorage } from 'node:async_hooks'

/**
 * The remote peer whose inbound stream is being handled. kad-dht runs record validators without
 * saying who sent the record; handlers guarded by `attachReputation` run inside this context, so a
 * validator that refuses a record can name the sender.
 */
export const inboundPeer = new AsyncLocalStorage<string>()

/**
 * The byte budget of the inbound kad-dht stream being handled (see `attachReputation`): takes a
 * record's bytes from its sender's bucket, false when the sender is over its budget. Unset on
 * every other path (our own queries' answers, `handle()` protocols, which are charged per request).
 */
export const inboundRecordBudget = new AsyncLocalStorage<(bytes: number) => boolean>()
