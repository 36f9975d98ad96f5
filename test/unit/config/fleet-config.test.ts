import { describe, expect, test } from 'vitest';
import { loadFleetConfig, parseFleetConfig } from '../../../src/config/load.ts';
import { FleetError } from '../../../src/errors.ts';
import { regionForAtlassianLocation } from '../../../src/config/atlassian-locations.ts';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- a raw, deliberately mutable copy to break on purpose
const base = () => JSON.parse(JSON.stringify(loadFleetConfig())) as Record<string, any>;

function problemsOf(raw: unknown): string[] {
  try {
    parseFleetConfig(raw);
  } catch (error) {
    expect(error).toBeInstanceOf(FleetError);
    expect((error as FleetError).code).toBe('CONFIG_INVALID');
    return [...(error as FleetError).problems];
  }
  throw new Error('expected the description to be refused');
}

describe('the fleet description', () => {
  test('the shipped description is valid and has three regions', () => {
    const config = loadFleetConfig();
    expect(config.regions.map((r) => r.name)).toEqual(['eu', 'us', 'au']);
    expect(config.lifecycle.graceDays).toBe(30);
  });

  test('every problem is reported at once', () => {
    const raw = base();
    raw.regions[0].offsiteRegion = 'us-east-1'; // another jurisdiction
    raw.regions[1].offsiteRegion = raw.regions[1].awsRegion; // itself
    raw.regions[2].awsRegion = 'mars-north-1'; // unknown
    raw.backup.dailyRetentionDays = 400; // beyond the vault lock's max of 365
    const problems = problemsOf(raw);
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/regions\.0\.offsiteRegion: off-site region us-east-1 lies in US, not EU/),
        expect.stringMatching(/regions\.1\.offsiteRegion: off-site region us-east-1 equals the region itself/),
        expect.stringMatching(/regions\.2\.awsRegion: unknown AWS region/),
        expect.stringMatching(/backup\.dailyRetentionDays: 400 days lies outside the vault lock's bounds 7-365/),
      ]),
    );
    expect(problems.length).toBeGreaterThanOrEqual(4);
  });

  test('duplicate region names and unknown keys are refused', () => {
    const raw = base();
    raw.regions[1].name = 'eu';
    raw.surprise = true;
    const problems = problemsOf(raw);
    expect(problems.join('\n')).toMatch(/used twice/);
    expect(problems.join('\n')).toMatch(/surprise/);
  });

  test('Atlassian data residency locations: each in one region, hosted where Atlassian says; looked up case-insensitively', () => {
    const config = loadFleetConfig();
    expect(config.regions.map((r) => [r.name, r.atlassianLocations])).toEqual([
      ['eu', ['EU', 'DE']],
      ['us', ['US']],
      ['au', ['AU']],
    ]);
    expect(regionForAtlassianLocation(config, 'DE')).toBe('eu');
    expect(regionForAtlassianLocation(config, 'us')).toBe('us');
    expect(regionForAtlassianLocation(config, 'JP')).toBeUndefined();
    const raw = base();
    raw.regions[1].atlassianLocations = ['US', 'DE', 'EU']; // DE is Frankfurt only; EU twice
    const problems = problemsOf(raw).join('\n');
    expect(problems).toMatch(/regions\.1\.atlassianLocations\.1: Atlassian location DE is hosted in eu-central-1, not us-east-1/);
    expect(problems).toMatch(
      /regions\.1\.atlassianLocations\.2: Atlassian location EU needs a region of jurisdiction EU; us-east-1 lies in US/,
    );
    expect(problems).toMatch(/Atlassian location EU is listed by regions eu and us/);
    const unknown = base();
    unknown.regions[2].atlassianLocations = ['MARS'];
    expect(problemsOf(unknown).join('\n')).toMatch(/regions\.2\.atlassianLocations\.0: .*"EU"/);
  });

  test('a missing file names the path and the fix', () => {
    expect(() => loadFleetConfig('/nonexistent/fleet.config.json')).toThrow(
      /cannot read the fleet description \/nonexistent\/fleet.config.json.*FLEET_CONFIG/,
    );
  });
});
