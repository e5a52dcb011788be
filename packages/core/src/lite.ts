/**
 * The part of core a middleware that opens no connection needs (event-loop-release, powertools):
 * importing it loads neither the pool nor the name resolution, nor the Node modules they use, so
 * such a package adds little to a cold start. The same functions as the main entry's, one copy.
 */
export { lambdaContextOf, trySet } from './context.js'
export { managedInstances } from './managed-instances.js'
export { firstInEnvironment } from './once-per-environment.js'
export { validateOptions } from './options.js'
export { warnOnce } from './warn.js'
