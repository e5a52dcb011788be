import type { MariaDbServer } from '@middy-downstream/testing'

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
): Promise<ManagedInstancesMeasurement>
