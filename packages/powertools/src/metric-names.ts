import type { LifecycleEvent } from '@middy-downstream/core'

/** A metric and the value one event adds to it (a count). */
export interface MetricPoint {
  name: string
  value: number
}

const capitalised = (word: string): string =>
  word
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean)
    .map((part) => part[0]!.toUpperCase() + part.slice(1))
    .join('')

/** What an error event counts as besides `Errors`: the failures a dashboard watches. */
const errorMetric = (event: LifecycleEvent): string | undefined => {
  switch (event.error?.name) {
    case 'CapacityError':
      return 'CapacityErrors'
    case 'DeadlineError':
      return 'DeadlineErrors'
    default:
      return undefined
  }
}

/**
 * The counts an event adds: connections opened, reused, validated (and failed), retried, closed,
 * reaped, errors (capacity and deadline ones also on their own), release decisions
 * (`ReleaseKeep`, `ReleaseClose`, `ReleaseDestroy`), and downstream-guard's permits (`PermitsAcquired`,
 * `PermitWaits`, `Throttles` and `Throttles<Limit>`, `PermitsReturned`, `LeasesExpired`).
 */
export const metricsOf = (event: LifecycleEvent): MetricPoint[] => {
  switch (event.type) {
    case 'open':
      return [{ name: 'ConnectionsOpened', value: 1 }]
    case 'reuse':
      return [{ name: 'ConnectionsReused', value: 1 }]
    case 'validate':
      return [
        { name: 'ConnectionsValidated', value: 1 },
        ...(event.ok === false ? [{ name: 'ValidationFailures', value: 1 }] : []),
      ]
    case 'retry':
      return [{ name: 'Retries', value: 1 }]
    case 'release':
      return [{ name: `Release${capitalised(event.action ?? 'keep')}`, value: 1 }]
    case 'close':
      return [
        {
          name: event.reason === 'unread-body' ? 'UnreadBodiesDestroyed' : 'ConnectionsClosed',
          value: event.count ?? 1,
        },
      ]
    case 'reap':
      return [{ name: 'ConnectionsReaped', value: event.count ?? 0 }]
    case 'error': {
      const specific = errorMetric(event)
      return [{ name: 'Errors', value: 1 }, ...(specific ? [{ name: specific, value: 1 }] : [])]
    }
    case 'acquire':
      return [{ name: 'PermitsAcquired', value: 1 }]
    case 'wait':
      return [{ name: 'PermitWaits', value: 1 }]
    case 'throttle':
      return [
        { name: 'Throttles', value: 1 },
        ...(event.limit ? [{ name: `Throttles${capitalised(event.limit)}`, value: 1 }] : []),
      ]
    case 'return':
      return [{ name: 'PermitsReturned', value: 1 }]
    case 'expire':
      return [{ name: 'LeasesExpired', value: 1 }]
    default:
      return []
  }
}
