import type { MariaDbServer, RicEnvironment } from '@middy-downstream/testing'

/** Starts one Managed Instances environment running examples/managed-instances/handler.mjs. */
export type StartEnvironment = (
  server: MariaDbServer,
  managedInstances: { maxConcurrency: number; workers: number },
) => Promise<{ invoke(event: unknown): Promise<{ ok: boolean }>; close(): Promise<unknown> }>

export const simulated: StartEnvironment
export const underRic: (
  server: MariaDbServer,
  managedInstances: { maxConcurrency: number; workers: number },
) => Promise<RicEnvironment>

export interface ManagedInstancesMeasurement {
  maxConcurrency: number
  workers: number
  invocations: number
  failed: number
  peakConnections: number
  failures: Record<string, number>
}

export function measure(
  server: MariaDbServer,
  maxConcurrency: number,
  workers: number,
  start?: StartEnvironment,
): Promise<ManagedInstancesMeasurement>
