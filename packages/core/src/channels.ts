import diagnostics from 'node:diagnostics_channel'
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

const lifecycle = diagnostics.channel(lifecycleChannelName)
// Held here so a type's channel (and whether it has subscribers) is found without a lookup by name.
const byType = new Map<string, diagnostics.Channel>()

const channelOf = (type: string): diagnostics.Channel => {
  let channel = byType.get(type)
  if (!channel) {
    channel = diagnostics.channel(`${lifecycleChannelName}:${type}`)
    byType.set(type, channel)
  }
  return channel
}

/** Whether anyone listens to events of this type on a channel: when not, nothing is built. */
export const hasChannelSubscribers = (type: string): boolean =>
  lifecycle.hasSubscribers || channelOf(type).hasSubscribers

/** Publishes the event on the lifecycle channel and on its type's channel. */
export const publishOnChannels = (event: LifecycleEvent): void => {
  if (lifecycle.hasSubscribers) lifecycle.publish(event)
  const typed = channelOf(event.type)
  if (typed.hasSubscribers) typed.publish(event)
}
