import type { FleetConfig } from './schema.ts';

/**
 * Atlassian's data-residency locations (realms) an app's data can be pinned to and migrated
 * between, and where a fleet region must be to host one: the jurisdiction of its AWS region
 * (src/config/aws-regions.ts), or for DE the one AWS region in Germany. A location a region lists
 * is where Atlassian's realm-migration hooks move a tenant to (the reference add-on server).
 */
export const ATLASSIAN_LOCATIONS = {
  EU: { jurisdiction: 'EU' },
  US: { jurisdiction: 'US' },
  AU: { jurisdiction: 'AU' },
  DE: { awsRegions: ['eu-central-1'] },
  SG: { jurisdiction: 'SG' },
  CA: { jurisdiction: 'CA' },
  IN: { jurisdiction: 'IN' },
  KR: { jurisdiction: 'KR' },
  JP: { jurisdiction: 'JP' },
  GB: { jurisdiction: 'UK' },
  CH: { jurisdiction: 'CH' },
} as const satisfies Record<string, { jurisdiction: string } | { awsRegions: readonly string[] }>;

export type AtlassianLocation = keyof typeof ATLASSIAN_LOCATIONS;

export const ATLASSIAN_LOCATION_NAMES = Object.keys(ATLASSIAN_LOCATIONS) as [AtlassianLocation, ...AtlassianLocation[]];

/** Why a region in `awsRegion` (of `jurisdiction`) cannot host `location`, or undefined when it can. */
export function locationProblem(location: AtlassianLocation, awsRegion: string, jurisdiction: string | undefined): string | undefined {
  const rule: { jurisdiction?: string; awsRegions?: readonly string[] } = ATLASSIAN_LOCATIONS[location];
  if (rule.awsRegions && !rule.awsRegions.includes(awsRegion))
    return `Atlassian location ${location} is hosted in ${rule.awsRegions.join(' or ')}, not ${awsRegion}`;
  if (rule.jurisdiction && rule.jurisdiction !== jurisdiction)
    return `Atlassian location ${location} needs a region of jurisdiction ${rule.jurisdiction}; ${awsRegion} lies in ${jurisdiction ?? 'an unknown jurisdiction'}`;
  return undefined;
}

/**
 * The fleet region that hosts an Atlassian data-residency location (`regions[].atlassianLocations`),
 * or undefined when none does. Case-insensitive ("eu" is EU).
 */
export function regionForAtlassianLocation(config: FleetConfig, location: string): string | undefined {
  const wanted = location.trim().toUpperCase();
  return config.regions.find((r) => (r.atlassianLocations as readonly string[]).includes(wanted))?.name;
}
