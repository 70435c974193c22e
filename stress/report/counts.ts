// Count records ({ "502": 3, "ECONNRESET": 1 }, { pod: answers }): totalled and shown the same way
// in the live panel, the summary and the report.

export function countTotal(counts: Record<string, number>): number {
  return Object.values(counts).reduce((a, b) => a + b, 0);
}

/** The largest `limit` entries, largest first, and how many more there are. */
export function formatCounts(counts: Record<string, number>, limit = 6): string {
  const entries = Object.entries(counts).sort((a, b) => b[1] - a[1]);
  const shown = entries.slice(0, limit).map(([key, n]) => `${key} ${n}`);
  if (entries.length > limit) shown.push(`+${entries.length - limit} more`);
  return shown.join(", ");
}
