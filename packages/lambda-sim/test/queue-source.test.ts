import { describe, expect, it } from '@jest/globals'
import { DownstreamStandIn, drainQueue, type InvocationRecord, SqsQueue } from '../src/index.js'

type SqsEvent = { Records: { messageId: string; body: string }[] }

/** An in-process "function": `work` gets the event, its answer becomes the invocation record. */
const inProcess =
  (work: (event: SqsEvent) => Promise<unknown>) =>
  async (event: unknown): Promise<InvocationRecord> => {
    const base = { phase: -1, index: 0, environment: 1, timedOut: false, coldStart: false, throttled: false }
    try {
      const value = await work(event as SqsEvent)
      return { ...base, ok: true, value, latencyMs: 0, durationMs: 0 }
    } catch (error) {
      return {
        ...base,
        ok: false,
        error: { name: 'Error', message: String(error) },
        latencyMs: 0,
        durationMs: 0,
      }
    }
  }

describe('SqsQueue', () => {
  it('hides received messages for the visibility timeout, then delivers them again', () => {
    const queue = new SqsQueue({ visibilityTimeoutMs: 1000, maxReceiveCount: 5 })
    queue.send(['a', 'b', 'c'])
    const t = Date.now()
    expect(queue.receive(2, t).map((m) => m.body)).toEqual(['a', 'b'])
    expect(queue.receive(10, t + 999).map((m) => m.body)).toEqual(['c'])
    const again = queue.receive(10, t + 1000)
    expect(again.map((m) => [m.body, m.receiveCount])).toEqual([
      ['a', 2],
      ['b', 2],
    ])
    expect(queue.counters).toMatchObject({ received: 5, redelivered: 2 })
    queue.delete(again.map((m) => m.messageId))
    expect(queue.size).toBe(1)
  })

  it('moves a message received maxReceiveCount times to the dead-letter queue on its next receive', () => {
    const queue = new SqsQueue({ visibilityTimeoutMs: 10, maxReceiveCount: 2 })
    queue.send(['poison'])
    const t = Date.now()
    expect(queue.receive(1, t)).toHaveLength(1)
    expect(queue.receive(1, t + 10)).toHaveLength(1)
    expect(queue.receive(1, t + 20)).toHaveLength(0)
    expect(queue.deadLetters.map((m) => m.body)).toEqual(['poison'])
    expect(queue.counters.deadLettered).toBe(1)
    expect(queue.size).toBe(0)
  })
})

describe('drainQueue (the event source mapping)', () => {
  it('deletes what succeeded, redelivers the reported failures, dead-letters a poison message', async () => {
    const queue = new SqsQueue({ visibilityTimeoutMs: 30, maxReceiveCount: 3 })
    queue.send(Array.from({ length: 25 }, (_, i) => (i === 7 ? 'poison' : `m${i}`)))
    const seen = new Map<string, number>()
    const result = await drainQueue(
      queue,
      inProcess(async (event) => {
        for (const r of event.Records) seen.set(r.body, (seen.get(r.body) ?? 0) + 1)
        const failures = event.Records.filter((r) => r.body === 'poison')
        return { batchItemFailures: failures.map((r) => ({ itemIdentifier: r.messageId })) }
      }),
      { batchSize: 10, pollers: 2, pollIntervalMs: 5 },
    )
    expect(queue.counters).toMatchObject({ sent: 25, deleted: 24, deadLettered: 1, redelivered: 2 })
    expect(seen.get('poison')).toBe(3)
    expect([...seen.entries()].filter(([body, n]) => body !== 'poison' && n !== 1)).toEqual([])
    expect(result.reportedFailures).toBe(3)
  })

  it('retries the whole batch when the invocation fails', async () => {
    const queue = new SqsQueue({ visibilityTimeoutMs: 20, maxReceiveCount: 5 })
    queue.send(['a', 'b'])
    let calls = 0
    const result = await drainQueue(
      queue,
      inProcess(async () => {
        calls += 1
        if (calls === 1) throw new Error('boom')
        return undefined
      }),
      { batchSize: 10, pollers: 1, pollIntervalMs: 5 },
    )
    expect(result).toMatchObject({ invocations: 2, failedInvocations: 1 })
    expect(queue.counters).toMatchObject({ deleted: 2, redelivered: 2 })
  })

  it('without ReportBatchItemFailures a batchItemFailures answer deletes the whole batch', async () => {
    const queue = new SqsQueue({ visibilityTimeoutMs: 20 })
    queue.send(['a', 'b'])
    await drainQueue(
      queue,
      inProcess(async (event) => ({ batchItemFailures: [{ itemIdentifier: event.Records[0]!.messageId }] })),
      { reportBatchItemFailures: false, pollers: 1 },
    )
    expect(queue.counters).toMatchObject({ deleted: 2, redelivered: 0 })
  })

  it('never runs more invocations at once than the maximum concurrency', async () => {
    const queue = new SqsQueue()
    queue.send(Array.from({ length: 60 }, (_, i) => `m${i}`))
    let inFlight = 0
    let peak = 0
    await drainQueue(
      queue,
      inProcess(async () => {
        inFlight += 1
        peak = Math.max(peak, inFlight)
        await new Promise((resolve) => setTimeout(resolve, 10))
        inFlight -= 1
        return undefined
      }),
      { batchSize: 2, pollers: 20, maximumConcurrency: 3 },
    )
    expect(peak).toBe(3)
    expect(queue.counters.deleted).toBe(60)
  })
})

describe('DownstreamStandIn', () => {
  it('refuses requests above its concurrency limit with 503 and counts what it served per key', async () => {
    const downstream = await DownstreamStandIn.start({ maxInFlight: 3, workMs: 300 })
    try {
      const statuses = await Promise.all(
        Array.from({ length: 12 }, (_, i) =>
          fetch(`${downstream.url}/work?key=k${i % 4}`, { method: 'POST' }).then((r) => r.status),
        ),
      )
      expect(statuses.filter((s) => s === 200).length).toBe(downstream.counters.served)
      expect(statuses.filter((s) => s === 503).length).toBe(downstream.counters.overloads)
      expect(downstream.counters.overloads).toBeGreaterThan(0)
      expect(downstream.counters.peakInFlight).toBeLessThanOrEqual(3)
      const perKey = [...downstream.counters.servedByKey.values()].reduce((a, b) => a + b, 0)
      expect(perKey).toBe(downstream.counters.served)
    } finally {
      await downstream.close()
    }
  })

  it('refuses requests above its rate with 429', async () => {
    const downstream = await DownstreamStandIn.start({ ratePerSecond: 5, workMs: 1 })
    try {
      const started = Date.now()
      const statuses: number[] = []
      for (let i = 0; i < 20; i++)
        statuses.push((await fetch(`${downstream.url}/work`, { method: 'POST' })).status)
      const seconds = (Date.now() - started) / 1000
      expect(statuses).toContain(429)
      // A bucket of 5, refilled at 5 per second.
      expect(downstream.counters.served).toBeLessThanOrEqual(5 + Math.ceil(seconds * 5))
    } finally {
      await downstream.close()
    }
  })
})
