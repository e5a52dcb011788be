import { fs, os } from './builtins.js'
import { warnOnce } from './warn.js'

/** How Lambda Managed Instances run this environment, as the runtime announces it. */
export interface ManagedInstances {
  /** Invocations the environment runs at once (`AWS_LAMBDA_MAX_CONCURRENCY`). */
  maxConcurrency: number
  /**
   * Worker threads of the Node.js runtime, each with its own copy of the handler module (and so
   * of every module-scope pool): `AWS_LAMBDA_NODEJS_WORKER_COUNT`, else 8 per vCPU, as the
   * runtime interface client (aws-lambda-ric 4) counts them.
   */
  workers: number
}

const positiveInteger = (value: string | undefined): number | undefined => {
  const n = Number(value)
  return value !== undefined && value !== '' && Number.isInteger(n) && n > 0 ? n : undefined
}

/**
 * The vCPUs as aws-lambda-ric 4 reads them: the cgroup's `cpu.max` quota over its period, the
 * machine's cores when unlimited, 1 when the file cannot be read.
 */
export const runtimeCpus = (
  cpuMax: () => string = () => fs().readFileSync('/sys/fs/cgroup/cpu.max', 'utf8'),
): number => {
  let text: string
  try {
    text = cpuMax().trim()
  } catch {
    return 1
  }
  const [quota, period] = text.split(/\s+/)
  if (quota === 'max') return Math.max(1, os().cpus().length)
  const q = Number.parseInt(quota ?? '', 10)
  const p = Number.parseInt(period ?? '', 10)
  return q > 0 && p > 0 ? Math.ceil(q / p) : 1
}

/**
 * Lambda Managed Instances, or `undefined` in a classic environment (one invocation at a time).
 *
 * @example
 * managedInstances() // { maxConcurrency: 64, workers: 16 } on a 2-vCPU instance (8 workers per vCPU)
 */
export const managedInstances = (
  env: NodeJS.ProcessEnv = process.env,
  cpuMax?: () => string,
): ManagedInstances | undefined => {
  const maxConcurrency = positiveInteger(env.AWS_LAMBDA_MAX_CONCURRENCY)
  if (maxConcurrency === undefined) return undefined
  // The client's own default: counting one per vCPU would hand each of its 8× more workers a
  // share of a budget sized for 8× fewer, and the environment would open 8× the budget.
  const workers = positiveInteger(env.AWS_LAMBDA_NODEJS_WORKER_COUNT) ?? 8 * runtimeCpus(cpuMax)
  return { maxConcurrency, workers }
}

/** The connections one execution environment may hold, and this worker's share of them. */
export interface ConnectionBudget {
  /** The most connections the whole execution environment holds (all workers together). */
  perEnvironment: number
  /** The pool size of this module instance (this worker). */
  perWorker: number
  workers: number
  /** `undefined` in a classic environment. */
  maxConcurrency?: number
  /** Whether the user stated the budget (else it is the default). */
  stated: boolean
}

/**
 * Splits a per-environment connection budget across the runtime's workers. In a classic
 * environment the pool is the budget (one invocation at a time uses one). Under Managed Instances
 * the default is `min(maxConcurrency, max(fallback, workers))`; each worker gets
 * `floor(budget / workers)`, at least 1 (a worker without a connection could serve nothing) and no
 * more than the invocations it runs at once.
 *
 * @example
 * connectionBudget(16, 4, { AWS_LAMBDA_MAX_CONCURRENCY: '64', AWS_LAMBDA_NODEJS_WORKER_COUNT: '8' })
 * // { perEnvironment: 16, perWorker: 2, workers: 8, maxConcurrency: 64, stated: true }
 */
export const connectionBudget = (
  stated: number | undefined,
  fallback: number,
  env: NodeJS.ProcessEnv = process.env,
): ConnectionBudget => {
  const mi = managedInstances(env)
  if (!mi)
    return {
      perEnvironment: stated ?? fallback,
      perWorker: stated ?? fallback,
      workers: 1,
      stated: stated !== undefined,
    }
  const perEnvironment = stated ?? Math.min(mi.maxConcurrency, Math.max(fallback, mi.workers))
  const perWorker = Math.max(
    1,
    Math.min(Math.floor(perEnvironment / mi.workers), Math.ceil(mi.maxConcurrency / mi.workers)),
  )
  return {
    perEnvironment,
    perWorker,
    workers: mi.workers,
    maxConcurrency: mi.maxConcurrency,
    stated: stated !== undefined,
  }
}

const announced = new Set<string>()

/**
 * Says once per module instance (worker) what the budget is under Managed Instances, and warns
 * when the workers need more connections than the budget allows. Silent in a classic environment.
 */
export const announceBudget = (packageName: string, option: string, budget: ConnectionBudget): void => {
  if (budget.maxConcurrency === undefined || announced.has(packageName)) return
  announced.add(packageName)
  const total = budget.perWorker * budget.workers
  console.info(
    `${packageName}: Lambda Managed Instances, concurrency ${budget.maxConcurrency} over ${budget.workers} workers: ${option} ${budget.perEnvironment}${budget.stated ? '' : ' (default)'} = ${budget.perWorker} per worker, at most ${total} per environment`,
  )
  if (total > budget.perEnvironment) {
    warnOnce(
      `${packageName}:budget-below-workers`,
      `${packageName}: ${option} ${budget.perEnvironment} is below the ${budget.workers} workers of this environment; each worker needs one, so it may hold ${total}. Raise ${option} or set AWS_LAMBDA_NODEJS_WORKER_COUNT lower`,
    )
  }
}
