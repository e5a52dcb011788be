import diagnostics from 'node:diagnostics_channel'
import { afterEach, describe, expect, test } from '@jest/globals'
import { EventSink, type LifecycleEvent, lifecycleChannelName } from '../src/index.js'

const unsubscribes: (() => void)[] = []
const collect = (name: string) => {
  const seen: LifecycleEvent[] = []
  const onMessage = (message: unknown) => {
    seen.push(message as LifecycleEvent)
  }
  diagnostics.subscribe(name, onMessage)
  unsubscribes.push(() => diagnostics.unsubscribe(name, onMessage))
  return seen
}

afterEach(() => {
  for (const unsubscribe of unsubscribes.splice(0)) unsubscribe()
  delete process.env.AWS_LAMBDA_FUNCTION_NAME
})

describe('events name their invocation', () => {
  test('functionName from AWS_LAMBDA_FUNCTION_NAME, awsRequestId as the emitter passes it', () => {
    process.env.AWS_LAMBDA_FUNCTION_NAME = 'orders'
    const sink = new EventSink('@middy-downstream/x', 'k')
    const seen: LifecycleEvent[] = []
    sink.subscribe((event) => seen.push(event))
    sink.emit({ type: 'open', awsRequestId: 'req-1' })
    sink.emit({ type: 'reuse' })
    expect(seen).toEqual([
      {
        type: 'open',
        package: '@middy-downstream/x',
        key: 'k',
        functionName: 'orders',
        awsRequestId: 'req-1',
      },
      { type: 'reuse', package: '@middy-downstream/x', key: 'k', functionName: 'orders' },
    ])
  })

  test('outside Lambda there is no functionName field', () => {
    const sink = new EventSink('@middy-downstream/x', 'k')
    const seen: LifecycleEvent[] = []
    sink.subscribe((event) => seen.push(event))
    sink.emit({ type: 'open' })
    expect(seen[0]).not.toHaveProperty('functionName')
  })

  test('a close event counts every socket it closed', () => {
    const sink = new EventSink('@middy-downstream/x', 'k')
    sink.emit({ type: 'close', reason: 'unread-body', count: 4 })
    sink.emit({ type: 'close' })
    expect(sink.counters.closes).toBe(5)
  })
})

test('permit events are counted on their own', () => {
  const sink = new EventSink('@middy-downstream/downstream-guard', 'billing')
  for (const type of ['wait', 'acquire', 'return', 'wait', 'throttle', 'acquire', 'expire'] as const) {
    sink.emit({ type })
  }
  expect(sink.counters).toMatchObject({
    permitWaits: 2,
    permitsAcquired: 2,
    permitsReturned: 1,
    throttles: 1,
    leasesExpired: 1,
    releases: 0,
    errors: 0,
  })
})

describe('node:diagnostics_channel', () => {
  test('every event is published on the lifecycle channel, and on its type channel', () => {
    const all = collect(lifecycleChannelName)
    const opens = collect(`${lifecycleChannelName}:open`)
    // No onEvent listener: the channels alone make the sink build and publish the event.
    const sink = new EventSink('@middy-downstream/x', 'k')
    sink.emit({ type: 'open', clientId: 1 })
    sink.emit({ type: 'release', action: 'keep' })
    expect(all.map((event) => event.type)).toEqual(['open', 'release'])
    expect(opens).toEqual([{ type: 'open', clientId: 1, package: '@middy-downstream/x', key: 'k' }])
    expect(sink.counters).toMatchObject({ opens: 1, releases: 1 })
  })

  test('a subscriber to one type only gets that type', () => {
    const releases = collect(`${lifecycleChannelName}:release`)
    const sink = new EventSink('@middy-downstream/x', 'k')
    sink.emit({ type: 'open' })
    sink.emit({ type: 'release', action: 'close', reason: 'utilization' })
    expect(releases).toMatchObject([{ type: 'release', action: 'close' }])
  })
})
