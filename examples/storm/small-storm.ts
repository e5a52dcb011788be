/**
 * The tests' small storm: 10 environments against `maxConnections`, a burst of `invocations`,
 * half the idle environments reclaimed with their connections left open, another burst.
 */
export const smallStorm = ({
  maxConnections,
  invocations,
}: {
  maxConnections: number
  invocations: number
}) => ({
  maxConnections,
  maxEnvironments: 10,
  // A roomier function timeout than the demo's: the suite may share the machine's two cores.
  timeoutMs: 6000,
  profile: [
    { name: 'burst', concurrency: 10, invocations },
    { name: 'reclaim', reap: 0.5 },
    { name: 'second burst', concurrency: 10, invocations },
  ],
})
