import type { EventListener, LifecycleEvent } from '@middy-downstream/core'
import { validateOptions } from '@middy-downstream/core/lite'
import { levelOf, messageOf } from './log-lines.js'
import { metricsOf } from './metric-names.js'

/**
 * The package's name, as it appears in its errors.
 *
 * @example
 * expect(() => powertoolsListener({})).toThrow(packageName)
 */
export const packageName = '@middy-downstream/powertools'

/**
 * What the adapter needs of a Powertools `Logger` (any object with these methods will do).
 *
 * @example
 * const logger: PowertoolsLogger = new Logger({ serviceName: 'orders' })
 */
export interface PowertoolsLogger {
  debug(message: string, ...attributes: Record<string, unknown>[]): void
  info(message: string, ...attributes: Record<string, unknown>[]): void
  warn(message: string, ...attributes: Record<string, unknown>[]): void
  error(message: string, ...attributes: Record<string, unknown>[]): void
}

/**
 * What the adapter needs of a Powertools `Metrics` (any object with `addMetric` will do).
 *
 * @example
 * const metrics: PowertoolsMetrics = new Metrics({ namespace: 'orders' })
 */
export interface PowertoolsMetrics {
  addMetric(name: string, unit: 'Count', value: number): unknown
}

/**
 * Where the lifecycle events go.
 *
 * @example
 * const options: PowertoolsListenerOptions = { logger, metrics, metricPrefix: 'Db' }
 */
export interface PowertoolsListenerOptions {
  /**
   * A Powertools `Logger`: one line per event, at `routineLevel` for routine work, `warn` for what
   * degrades an invocation (a retry, a failed check, a destroyed connection), `error` for a failure.
   * @default none (no log lines)
   */
  logger?: PowertoolsLogger
  /**
   * A Powertools `Metrics`: counts per event (see the README for the names), flushed as EMF by
   * `logMetrics(metrics)` or `metrics.publishStoredMetrics()`.
   * @default none (no metrics)
   */
  metrics?: PowertoolsMetrics
  /**
   * The level of routine events (`open`, `reuse`, `release` keep/close, `validate` ok, …).
   * @default 'debug'
   */
  routineLevel?: 'debug' | 'info'
  /**
   * Put before every metric name, to tell two middlewares apart on one `Metrics`: `'Db'` gives
   * `DbConnectionsOpened`.
   * @default ''
   */
  metricPrefix?: string
  /**
   * The key of the log line under which the event's fields go.
   * @default 'downstream'
   */
  logKey?: string
}

const hasMethods =
  (...names: string[]) =>
  (value: unknown): boolean =>
    typeof value === 'object' &&
    value !== null &&
    names.every((name) => typeof (value as Record<string, unknown>)[name] === 'function')

const schema = {
  logger: {
    type: 'custom',
    expected: 'a Powertools Logger (debug, info, warn and error methods)',
    check: hasMethods('debug', 'info', 'warn', 'error'),
  },
  metrics: {
    type: 'custom',
    expected: 'a Powertools Metrics (an addMetric method)',
    check: hasMethods('addMetric'),
  },
  routineLevel: { type: 'oneOf', values: ['debug', 'info'] },
  metricPrefix: { type: 'string' },
  logKey: { type: 'string', nonEmpty: true },
} as const

/** The event's fields that are set, for the log line. */
const fieldsOf = (event: LifecycleEvent): Record<string, unknown> =>
  Object.fromEntries(Object.entries(event).filter(([, value]) => value !== undefined))

/**
 * An `onEvent` listener that turns the lifecycle events of any middy-downstream middleware into
 * Powertools log lines and metrics: pass it as `onEvent` next to `injectLambdaContext(logger)` and
 * `logMetrics(metrics)`. Never throws into an invocation (the middlewares ignore a listener that
 * throws) and never sees a secret (events carry none).
 *
 * @example
 * import { Logger } from '@aws-lambda-powertools/logger'
 * import { Metrics } from '@aws-lambda-powertools/metrics'
 * import { powertoolsListener } from '@middy-downstream/powertools'
 *
 * const onEvent = powertoolsListener({ logger: new Logger(), metrics: new Metrics({ namespace: 'orders' }) })
 * dbConnection({ config, onEvent })
 */
export const powertoolsListener = (options: PowertoolsListenerOptions): EventListener => {
  validateOptions(packageName, schema, options)
  const { logger, metrics, routineLevel = 'debug', metricPrefix = '', logKey = 'downstream' } = options
  if (!logger && !metrics) {
    throw new TypeError(
      `${packageName}: pass a Powertools Logger as "logger", a Metrics as "metrics", or both`,
    )
  }
  return (event) => {
    if (logger) logger[levelOf(event, routineLevel)](messageOf(event), { [logKey]: fieldsOf(event) })
    if (metrics)
      for (const { name, value } of metricsOf(event))
        metrics.addMetric(`${metricPrefix}${name}`, 'Count', value)
  }
}
