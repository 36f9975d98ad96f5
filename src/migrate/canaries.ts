/**
 * The canary tenants of a run: taken from each region in turn (the first tenant of every region,
 * then the second, ...), so `canary: N` with N at least the number of regions tries the release on
 * every region's database before the rollout, instead of N tenants of the first region only.
 */
export function pickCanaries<T extends { readonly region: { readonly name: string } }>(items: readonly T[], count: number): T[] {
  const byRegion = new Map<string, T[]>();
  for (const item of items) byRegion.set(item.region.name, [...(byRegion.get(item.region.name) ?? []), item]);
  const queues = [...byRegion.values()];
  const picked: T[] = [];
  for (let round = 0; picked.length < count && queues.some((q) => q.length > round); round += 1) {
    for (const queue of queues) {
      const item = queue[round];
      if (item !== undefined && picked.length < count) picked.push(item);
    }
  }
  return picked;
}
