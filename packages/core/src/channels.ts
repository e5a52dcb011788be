import type { Channel } from 'node:diagnostics_channel'
import { diagnosticsChannel } from './builtins.js'
import type { LifecycleEvent } from './events.js'

/**
 * The name of the `node:diagnostics_channel` every lifecycle event is published on; each type also
 * has a channel of its own, `middy-downstream:lifecycle:<type>` (e.g. `…:open`).
 *
 * @example
 * import { subscribe } from 'node:diagnostics_channel'
 * subscribe(lifecycleChannelName, (event) => span?.addEvent((event as LifecycleEvent).type))
 */
export const lifecycleChannelName = 'middy-downstream:lifecycle'

// Made at the first event, not at import: importing core should not load node:diagnostics_channel.
let lifecycleChannel: Channel | undefined
const lifecycle = (): Channel => (lifecycleChannel ??= diagnosticsChannel().channel(lifecycleChannelName))
// Held here so a type's channel (and whether it has subscribers) is found without a lookup by name.
const byType = new Map<string, Channel>()

const channelOf = (type: string): Channel => {
  let channel = byType.get(type)
  if (!channel) {
    channel = diagnosticsChannel().channel(`${lifecycleChannelName}:${type}`)
    byType.set(type, channel)
  }
  return channel
}

/** Whether anyone listens to events of this type on a channel: when not, nothing is built. */
export const hasChannelSubscribers = (type: string): boolean =>
  lifecycle().hasSubscribers || channelOf(type).hasSubscribers

/** Publishes the event on the lifecycle channel and on its type's channel. */
export const publishOnChannels = (event: LifecycleEvent): void => {
  const all = lifecycle()
  if (all.hasSubscribers) all.publish(event)
  const typed = channelOf(event.type)
  if (typed.hasSubscribers) typed.publish(event)
}
