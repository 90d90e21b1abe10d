import { AsyncLocalStorage } from 'node:async_hooks'

/**
 * The remote peer whose inbound stream is being handled. kad-dht runs record validators without
 * saying who sent the record; handlers guarded by `attachReputation` run inside this context, so a
 * validator that refuses a record can name the sender.
 */
export const inboundPeer = new AsyncLocalStorage<string>()
