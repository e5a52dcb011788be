export {
  type PowertoolsListenerOptions,
  type PowertoolsLogger,
  type PowertoolsMetrics,
  packageName,
  powertoolsListener,
  powertoolsListener as default,
} from './listener.js'
export { type LogLevel, levelOf, messageOf } from './log-lines.js'
export { type MetricPoint, metricsOf } from './metric-names.js'
