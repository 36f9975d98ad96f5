import { afterAll, describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { PACKAGE_ROOT } from '../../src/config/load.ts';
import { hostingLocationsMarkdown } from '../../stacks/locations.ts';
import { CONFIG_PATH, cleanTempDirs, defaultFleet, fleetWith, tempDir } from './fixtures.ts';

afterAll(cleanTempDirs);

describe('docs/hosting-locations.md', () => {
  it('is exactly what `npm run locations` generates from fleet.config.json', () => {
    const committed = readFileSync(path.join(PACKAGE_ROOT, 'docs', 'hosting-locations.md'), 'utf8');
    expect(committed).toBe(hostingLocationsMarkdown(defaultFleet()));
  });
});

describe('hostingLocationsMarkdown', () => {
  it('lists each region with its AWS region, jurisdiction and off-site region', () => {
    const text = hostingLocationsMarkdown(defaultFleet());
    expect(text).toContain('| eu | eu-central-1, Europe (Frankfurt) | EU | eu-west-1, Europe (Ireland) | EU, DE |');
    expect(text).toContain('| us | us-east-1, US East (N. Virginia) | US | us-west-2, US West (Oregon) | US |');
    expect(text).toContain('| au | ap-southeast-2, Asia Pacific (Sydney) | AU | ap-southeast-4, Asia Pacific (Melbourne) | AU |');
  });

  it('follows the description: a changed off-site region and retention show up', () => {
    const fleet = fleetWith((raw) => {
      raw.regions[0]!.offsiteRegion = 'eu-west-3';
      (raw.backup as { weeklyRetentionDays: number }).weeklyRetentionDays = 120;
    });
    const text = hostingLocationsMarkdown(fleet);
    expect(text).toContain('| eu | eu-central-1, Europe (Frankfurt) | EU | eu-west-3, Europe (Paris) | EU, DE |');
    expect(text).toContain('weekly backups for 120 days');
    expect(text).not.toContain('eu-west-1');
  });

  it('says that tenants move between regions, and how, naming the regions they can move to', () => {
    const text = hostingLocationsMarkdown(defaultFleet());
    expect(text).toContain('## Moving a tenant to another region');
    expect(text).toContain('`fleet tenants move <tenant-id> --to-region <region>` (region one of eu, us, au)');
    expect(text).toMatch(/not served while the move runs, and a move that is interrupted is finished or rolled back/);
    expect(text).toMatch(/Backups are tested: every week/);
  });

  it('says a one-region fleet has nowhere to move to', () => {
    const text = hostingLocationsMarkdown(fleetWith((raw) => void raw.regions.splice(1)));
    expect(text).toContain('This fleet has one region (eu), so tenants do not move.');
    expect(text).not.toContain('region one of');
  });
});

describe('npm run locations', () => {
  const run = (args: string[], env: Record<string, string> = {}) =>
    execa('node', ['--import', 'tsx', path.join(PACKAGE_ROOT, 'scripts', 'locations.ts'), ...args], {
      cwd: PACKAGE_ROOT,
      env,
      reject: false,
    });
  const description = (edit: (raw: Record<string, unknown>) => void) => {
    const raw = JSON.parse(readFileSync(CONFIG_PATH, 'utf8')) as Record<string, unknown>;
    edit(raw);
    const file = path.join(tempDir('fleet-locations-'), 'fleet.config.json');
    writeFileSync(file, JSON.stringify(raw));
    return file;
  };

  it('--check passes on the committed page and fails, writing nothing, once the description changes', async () => {
    const ok = await run(['--check']);
    expect(ok.exitCode, ok.stderr).toBe(0);
    const page = path.join(PACKAGE_ROOT, 'docs', 'hosting-locations.md');
    const before = readFileSync(page, 'utf8');
    const stale = await run(['--check'], {
      FLEET_CONFIG: description((raw) => void ((raw.backup as Record<string, unknown>).weeklyRetentionDays = 120)),
    });
    expect(stale.exitCode).toBe(1);
    expect(stale.stderr).toMatch(/docs\/hosting-locations\.md is out of date: run `npm run locations` and commit it/);
    expect(readFileSync(page, 'utf8')).toBe(before);
  }, 30_000);

  it('refuses a bad description with exit 2 and the same clean error as synth, no stack trace', async () => {
    const bad = { FLEET_CONFIG: description((raw) => void (raw.name = 'Not A Name')) };
    const locations = await run(['--check'], bad);
    const synth = await execa('node', ['--import', 'tsx', path.join(PACKAGE_ROOT, 'stacks', 'main.ts')], {
      cwd: PACKAGE_ROOT,
      env: { ...bad, CDKTF_OUTDIR: tempDir() },
      reject: false,
    });
    expect(locations.exitCode).toBe(2);
    expect(synth.exitCode).toBe(2);
    expect(locations.stderr).toMatch(
      /^error \[CONFIG_INVALID\] .*fleet\.config\.json is invalid \(1 problem\); fix each and retry:\n {2}- name: /,
    );
    expect(locations.stderr).toBe(synth.stderr);
    expect(locations.stderr).not.toMatch(/\n\s+at /);
  }, 30_000);
});
