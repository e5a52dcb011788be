import { crypto } from './builtins.js'

/** One message as the queue keeps it. */
export interface QueuedMessage {
  messageId: string
  body: string
  /** How many times it was received (handed to a consumer). */
  receiveCount: number
  /** Invisible to receivers until then (epoch ms); 0 when visible. */
  invisibleUntil: number
}

export interface SqsQueueOptions {
  /**
   * How long a received message stays hidden before it is delivered again, ms.
   * @default 30000
   */
  visibilityTimeoutMs?: number
  /**
   * Receives after which a message goes to the dead-letter queue instead.
   * @default 5
   */
  maxReceiveCount?: number
}

/** What happened to the queue's messages so far. */
export interface QueueCounters {
  sent: number
  received: number
  /** Receives of a message already received before. */
  redelivered: number
  deleted: number
  deadLettered: number
}

/**
 * An SQS-like standard queue: messages are received in batches and hidden for the visibility
 * timeout; a message not deleted by then is delivered again; one received `maxReceiveCount` times
 * without being deleted moves to the dead-letter queue on its next receive, as SQS's redrive
 * policy does.
 *
 * @example
 * const queue = new SqsQueue({ visibilityTimeoutMs: 5000, maxReceiveCount: 3 })
 * queue.send(['a', 'b'])
 * const batch = queue.receive(10)
 * queue.delete(batch.map((m) => m.messageId))
 */
export class SqsQueue {
  readonly counters: QueueCounters = { sent: 0, received: 0, redelivered: 0, deleted: 0, deadLettered: 0 }
  readonly deadLetters: QueuedMessage[] = []
  private readonly messages = new Map<string, QueuedMessage>()
  private readonly visibilityTimeoutMs: number
  private readonly maxReceiveCount: number

  constructor(options: SqsQueueOptions = {}) {
    this.visibilityTimeoutMs = options.visibilityTimeoutMs ?? 30_000
    this.maxReceiveCount = options.maxReceiveCount ?? 5
  }

  send(bodies: string[]): string[] {
    return bodies.map((body) => {
      const message = { messageId: crypto().randomUUID(), body, receiveCount: 0, invisibleUntil: 0 }
      this.messages.set(message.messageId, message)
      this.counters.sent += 1
      return message.messageId
    })
  }

  /** Up to `max` visible messages, now hidden for the visibility timeout. */
  receive(max: number, now = Date.now()): QueuedMessage[] {
    const batch: QueuedMessage[] = []
    for (const message of this.messages.values()) {
      if (batch.length >= max) break
      if (message.invisibleUntil > now) continue
      if (message.receiveCount >= this.maxReceiveCount) {
        this.messages.delete(message.messageId)
        this.deadLetters.push(message)
        this.counters.deadLettered += 1
        continue
      }
      if (message.receiveCount > 0) this.counters.redelivered += 1
      message.receiveCount += 1
      message.invisibleUntil = now + this.visibilityTimeoutMs
      this.counters.received += 1
      batch.push({ ...message })
    }
    return batch
  }

  delete(messageIds: Iterable<string>): void {
    for (const id of messageIds) if (this.messages.delete(id)) this.counters.deleted += 1
  }

  /** Messages neither deleted nor dead-lettered (visible or in flight). */
  get size(): number {
    return this.messages.size
  }

  /** When the next hidden message becomes visible again (epoch ms), or undefined. */
  nextVisibleAt(): number | undefined {
    let next: number | undefined
    for (const message of this.messages.values()) {
      if (next === undefined || message.invisibleUntil < next) next = message.invisibleUntil
    }
    return next
  }
}
