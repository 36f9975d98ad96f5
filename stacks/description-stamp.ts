import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { FleetConfig } from '../src/config/schema.ts';

/**
 * What `npm run synth` was given, recorded beside the stacks it wrote, so `fleet policy` can refuse
 * to approve stacks that no longer match the description (an edit after the last synth). The
 * digest is of the validated description, defaults applied and keys sorted: reformatting the file
 * changes nothing, changing what it means (or a default it relies on) does.
 */

export const STAMP_FILE = 'fleet-description.json';

export interface DescriptionStamp {
  /** sha256 (hex) of the validated description. */
  readonly sha256: string;
  /** The file it was read from, for messages. */
  readonly source: string;
}

function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((key) => [key, canonical((value as Record<string, unknown>)[key])]),
    );
  }
  return value;
}

export function descriptionDigest(fleet: FleetConfig): string {
  return createHash('sha256')
    .update(JSON.stringify(canonical(fleet)))
    .digest('hex');
}

export function writeDescriptionStamp(outdir: string, fleet: FleetConfig, source: string): void {
  const stamp: DescriptionStamp = { sha256: descriptionDigest(fleet), source };
  writeFileSync(path.join(outdir, STAMP_FILE), `${JSON.stringify(stamp, null, 2)}\n`);
}

/** The stamp in `outdir`, or undefined when there is none or it is not one. */
export function readDescriptionStamp(outdir: string): DescriptionStamp | undefined {
  const file = path.join(outdir, STAMP_FILE);
  if (!existsSync(file)) return undefined;
  try {
    const parsed = JSON.parse(readFileSync(file, 'utf8')) as Partial<DescriptionStamp>;
    return typeof parsed.sha256 === 'string' && typeof parsed.source === 'string'
      ? { sha256: parsed.sha256, source: parsed.source }
      : undefined;
  } catch {
    return undefined;
  }
}

export type Freshness = { readonly fresh: true } | { readonly fresh: false; readonly reason: string };

/** Whether the stacks in `outdir` were synthesized from `fleet` (read from `source`). */
export function synthFreshness(outdir: string, fleet: FleetConfig, source: string): Freshness {
  const stamp = readDescriptionStamp(outdir);
  if (!stamp)
    return {
      fresh: false,
      reason: `${outdir} holds no record (${STAMP_FILE}) of the fleet description its stacks came from, so they may not be what ${source} describes`,
    };
  if (stamp.sha256 !== descriptionDigest(fleet)) {
    const reason =
      stamp.source === source
        ? `${source} has changed since the stacks in ${outdir} were synthesized from it`
        : `the stacks in ${outdir} were synthesized from a fleet description (${stamp.source}) that differs from the current ${source}`;
    return { fresh: false, reason };
  }
  return { fresh: true };
}
