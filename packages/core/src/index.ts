export { lambdaContextOf, remainingTimeMs, trySet } from './context.js'
export { type OptionRule, type OptionsSchema, validateOptions } from './options.js'
export { warnOnce } from './warn.js'
