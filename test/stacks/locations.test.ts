import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { PACKAGE_ROOT } from '../../src/config/load.ts';
import { hostingLocationsMarkdown } from '../../stacks/locations.ts';
import { defaultFleet, fleetWith } from './fixtures.ts';

describe('docs/hosting-locations.md', () => {
  it('is exactly what `npm run locations` generates from fleet.config.json', () => {
    const committed = readFileSync(path.join(PACKAGE_ROOT, 'docs', 'hosting-locations.md'), 'utf8');
    expect(committed).toBe(hostingLocationsMarkdown(defaultFleet()));
  });
});

describe('hostingLocationsMarkdown', () => {
  it('lists each region with its AWS region, jurisdiction and off-site region', () => {
    const text = hostingLocationsMarkdown(defaultFleet());
    expect(text).toContain('| eu | eu-central-1, Europe (Frankfurt) | EU | eu-west-1, Europe (Ireland) |');
    expect(text).toContain('| us | us-east-1, US East (N. Virginia) | US | us-west-2, US West (Oregon) |');
    expect(text).toContain('| au | ap-southeast-2, Asia Pacific (Sydney) | AU | ap-southeast-4, Asia Pacific (Melbourne) |');
  });

  it('follows the description: a changed off-site region and retention show up', () => {
    const fleet = fleetWith((raw) => {
      raw.regions[0]!.offsiteRegion = 'eu-west-3';
      (raw.backup as { weeklyRetentionDays: number }).weeklyRetentionDays = 120;
    });
    const text = hostingLocationsMarkdown(fleet);
    expect(text).toContain('| eu | eu-central-1, Europe (Frankfurt) | EU | eu-west-3, Europe (Paris) |');
    expect(text).toContain('weekly backups for 120 days');
    expect(text).not.toContain('eu-west-1');
  });
});
