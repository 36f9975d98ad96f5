import { App } from 'cdktf';
import type { FleetConfig } from '../src/config/schema.ts';
import { RegionStack } from './region-stack.ts';
import { AccessStack } from './access-stack.ts';
import { writeDescriptionStamp } from './description-stamp.ts';

export interface FleetAppOptions {
  /** Where `synth()` writes; default `cdktf.out`, where terraform and the policy pack look. */
  readonly outdir?: string;
}

/**
 * The whole fleet as one cdktf app: a data stack per region of the description, then the access
 * stack. Only public cdktf/constructs APIs, so a move to CDK Terrain stays a package rename.
 */
export function buildFleetApp(fleet: FleetConfig, options: FleetAppOptions = {}): App {
  const app = new App({
    outdir: options.outdir ?? 'cdktf.out',
    // Stack traces in construct metadata cost synth time and churn the output on every edit.
    stackTraces: false,
    // The flags `cdktf init` sets: logical ids keep the readable construct path.
    context: { excludeStackIdFromLogicalIds: 'true', allowSepCharsInLogicalIds: 'true' },
  });
  addFleetStacks(app, fleet);
  return app;
}

/**
 * What `npm run synth` does: the stacks into `outdir/stacks`, and beside them the digest of the
 * description they came from (read from `source`), which `fleet policy` checks.
 */
export function synthFleetApp(fleet: FleetConfig, source: string, options: FleetAppOptions = {}): App {
  const app = buildFleetApp(fleet, options);
  app.synth();
  writeDescriptionStamp(app.outdir, fleet, source);
  return app;
}

export interface FleetStacks {
  readonly regions: readonly RegionStack[];
  readonly access: AccessStack;
}

/** The fleet's stacks in an existing app (tests pass cdktf's `Testing.app()`). */
export function addFleetStacks(app: App, fleet: FleetConfig): FleetStacks {
  const regions = fleet.regions.map((region) => new RegionStack(app, { fleet, region }));
  const access = new AccessStack(app, { fleet });
  // Recorded in the manifest: cdktf-cli deploys dependencies first; our docs give the same order.
  for (const region of regions) access.addDependency(region);
  return { regions, access };
}
