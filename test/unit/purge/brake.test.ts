import { describe, expect, test } from 'vitest';
import fc from 'fast-check';
import { evaluateBrake } from '../../../src/purge/brake.ts';
import { backupExpiry, backupRetentionDays } from '../../../src/purge/backup-expiry.ts';
import { parseFleetConfig, loadFleetConfig } from '../../../src/config/load.ts';
import path from 'node:path';
import { PACKAGE_ROOT } from '../../../src/config/load.ts';

describe('the mass-deletion brake', () => {
  test('within the share: not tripped', () => {
    const d = evaluateBrake([{ region: 'eu', due: 2, nonPurged: 20 }], 0.1);
    expect(d.tripped).toBe(false);
    expect(d.limits[0]).toMatchObject({ kind: 'share', region: 'eu', due: 2, allowed: 2, exceeded: false });
  });

  test('above the share: tripped, naming the region, the numbers and the limit', () => {
    const d = evaluateBrake(
      [
        { region: 'eu', due: 3, nonPurged: 20 },
        { region: 'us', due: 0, nonPurged: 5 },
      ],
      0.1,
    );
    expect(d.tripped).toBe(true);
    const hit = d.limits.filter((l) => l.exceeded);
    expect(hit).toHaveLength(1);
    expect(hit[0]!.message).toBe(
      'region eu: 3 tenant(s) due of 20 not purged; the limit is 10% (lifecycle.purgeMaxShare), at most 2 at once — exceeded',
    );
  });

  test('--max limits the whole run, and is checked besides the share', () => {
    const d = evaluateBrake(
      [
        { region: 'eu', due: 2, nonPurged: 100 },
        { region: 'us', due: 2, nonPurged: 100 },
      ],
      0.1,
      3,
    );
    expect(d.tripped).toBe(true);
    expect(d.limits.find((l) => l.kind === 'max')).toMatchObject({
      due: 4,
      allowed: 3,
      exceeded: true,
      message: 'this run: 4 tenant(s) due; --max 3 — exceeded',
    });
    expect(evaluateBrake([{ region: 'eu', due: 2, nonPurged: 100 }], 0.1, 2).tripped).toBe(false);
    expect(evaluateBrake([{ region: 'eu', due: 1, nonPurged: 100 }], 0.1, 0).tripped).toBe(true);
  });

  test('nothing due never trips; a share of 1 allows everyone', () => {
    expect(evaluateBrake([{ region: 'eu', due: 0, nonPurged: 0 }], 0.1).tripped).toBe(false);
    expect(evaluateBrake([{ region: 'eu', due: 7, nonPurged: 7 }], 1).tripped).toBe(false);
  });

  test('property: tripped exactly when due > share × tenants in some region (no floating-point slack either way)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 100 }),
        fc.array(fc.tuple(fc.nat(1000), fc.nat(1000)), { minLength: 1, maxLength: 4 }),
        (percent, counts) => {
          const share = percent / 100;
          const regions = counts.map(([a, b], i) => ({ region: `r${i}`, due: Math.min(a, b), nonPurged: Math.max(a, b) }));
          // Exact in integers: due > percent × tenants / 100  ⇔  100 × due > percent × tenants.
          const expected = regions.some((r) => 100 * r.due > percent * r.nonPurged);
          expect(evaluateBrake(regions, share).tripped).toBe(expected);
        },
      ),
      { numRuns: 500 },
    );
  });
});

describe('backup expiry', () => {
  const base = loadFleetConfig(path.join(PACKAGE_ROOT, 'fleet.config.json'));
  test('purge time + the longest retention: weekly 90 days by default', () => {
    expect(backupRetentionDays(base)).toBe(90);
    expect(backupExpiry(base, new Date('2026-01-01T00:00:00Z')).toISOString()).toBe('2026-04-01T00:00:00.000Z');
  });
  test('never earlier than RDS point-in-time recovery (35 days)', () => {
    const short = parseFleetConfig({ ...base, backup: { ...base.backup, dailyRetentionDays: 7, weeklyRetentionDays: 14 } });
    expect(backupRetentionDays(short)).toBe(35);
  });
});
