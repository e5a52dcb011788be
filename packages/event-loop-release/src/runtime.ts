/**
 * The Node.js major of the Lambda runtime: from `AWS_EXECUTION_ENV` (`AWS_Lambda_nodejs24.x`)
 * where Lambda sets it, else this process's own version (a local run, lambda-sim).
 *
 * @example
 * runtimeNodeMajor({ AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs22.x' }) // 22
 */
export const runtimeNodeMajor = (env: NodeJS.ProcessEnv = process.env): number => {
  const fromLambda = /^AWS_Lambda_nodejs(\d+)\.x$/.exec(env.AWS_EXECUTION_ENV ?? '')?.[1]
  return Number(fromLambda ?? process.versions.node.split('.')[0])
}

/**
 * Whether the runtime calls callback-style handlers and reads `callbackWaitsForEmptyEventLoop`.
 * From Node.js 24 on it does neither: it refuses callback handlers at start and answers when the
 * handler's promise settles.
 *
 * @example
 * runtimeTakesCallbacks({ AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs24.x' }) // false
 */
export const runtimeTakesCallbacks = (env: NodeJS.ProcessEnv = process.env): boolean =>
  runtimeNodeMajor(env) < 24
