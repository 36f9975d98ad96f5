import { FleetError } from '../errors.ts';

/** Shard `i/n`: this runner takes the tenants whose id hashes to i (1-based) of n. */
export interface Shard {
  readonly index: number;
  readonly count: number;
}

export function parseShard(text: string): Shard {
  const match = /^(\d+)\/(\d+)$/.exec(text.trim());
  const index = Number(match?.[1]);
  const count = Number(match?.[2]);
  if (!match || count < 1 || index < 1 || index > count) {
    throw FleetError.forOption('INPUT_INVALID', 'shard', (o) => `${o} ${JSON.stringify(text)} is not i/n with 1 <= i <= n, e.g. ${o} 2/4`);
  }
  return { index, count };
}

/** FNV-1a: stable across processes and machines, so every runner of a CI matrix agrees. */
function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i += 1) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash;
}

export function inShard(tenantId: string, shard: Shard): boolean {
  return fnv1a(tenantId) % shard.count === shard.index - 1;
}
