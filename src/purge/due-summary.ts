/**
 * Due tenants counted by disconnect cause and by the day they were disconnected: a mass of
 * `stale` on one day points at a broken contact recorder or clock, not at customers leaving.
 */
export interface DueSummary {
  readonly byCause: Readonly<Record<string, number>>;
  /** Keyed by the UTC day of disconnection (YYYY-MM-DD), `unknown` when not recorded. */
  readonly byDate: Readonly<Record<string, number>>;
}

export function summarizeDue(
  due: readonly { readonly disconnectCause: string | null; readonly disconnectedAt: string | null }[],
): DueSummary {
  const byCause: Record<string, number> = {};
  const byDate: Record<string, number> = {};
  for (const d of due) {
    const cause = d.disconnectCause ?? 'unknown';
    const day = d.disconnectedAt?.slice(0, 10) ?? 'unknown';
    byCause[cause] = (byCause[cause] ?? 0) + 1;
    byDate[day] = (byDate[day] ?? 0) + 1;
  }
  const sorted = (record: Record<string, number>) =>
    Object.fromEntries(Object.entries(record).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  return { byCause: sorted(byCause), byDate: sorted(byDate) };
}
