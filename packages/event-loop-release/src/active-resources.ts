/** Counts of active event-loop resources by type (`TCPSocketWrap`, `Timeout`, `FSReqCallback`…). */
export type ResourceCounts = Record<string, number>

export const activeResources = (): ResourceCounts => {
  const counts: ResourceCounts = {}
  for (const type of process.getActiveResourcesInfo()) counts[type] = (counts[type] ?? 0) + 1
  return counts
}

/** The resource types with more instances now than in `before`, and by how many. */
export const addedSince = (
  before: ResourceCounts,
  after: ResourceCounts = activeResources(),
): ResourceCounts => {
  const added: ResourceCounts = {}
  for (const [type, count] of Object.entries(after)) {
    const extra = count - (before[type] ?? 0)
    if (extra > 0) added[type] = extra
  }
  return added
}
