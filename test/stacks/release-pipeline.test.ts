import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { PACKAGE_ROOT } from '../../src/config/load.ts';
import { defaultFleet } from './fixtures.ts';

/** The commands `fleet` has (scripts/fleet.ts and its commands), and the flags migrate takes. */
const FLEET_COMMANDS = [
  'tenants',
  'migrate',
  'rollback',
  'status',
  'migration',
  'policy',
  'purge',
  'verify',
  'support',
  'sql',
  'lifecycle',
  'start',
];
const MIGRATE_FLAGS = [
  '--to',
  '--phase',
  '--allow-out-of-order',
  '--tenant',
  '--region',
  '--concurrency',
  '--canary',
  '--fail-fast',
  '--dry-run',
  '--shard',
  '--json',
];

interface Step {
  readonly name?: string;
  readonly uses?: string;
  readonly run?: string;
  readonly with?: Record<string, unknown>;
}
interface Job {
  readonly needs?: string | string[];
  readonly environment?: unknown;
  readonly steps: Step[];
}
interface Workflow {
  readonly on: { push?: { branches?: string[] } };
  readonly permissions: Record<string, string>;
  readonly jobs: Record<string, Job>;
}

const workflow = parse(readFileSync(path.join(PACKAGE_ROOT, 'examples', 'release-pipeline.yml'), 'utf8')) as Workflow;
const jobsInOrder = Object.values(workflow.jobs);
/** Every shell line of every step, in the order the pipeline runs them (jobs chained by needs). */
const lines = jobsInOrder.flatMap((job) =>
  job.steps.flatMap((step) =>
    (step.run ?? '')
      .split('\n')
      .map((l) => l.trim())
      .filter(Boolean),
  ),
);
const indexOf = (pattern: RegExp) => lines.findIndex((l) => pattern.test(l));

/** `npx fleet <command> <args...>` invocations, arguments up to a redirection or pipe. */
function fleetInvocations(): Array<{ command: string; args: string[] }> {
  return lines.flatMap((line) =>
    [...line.matchAll(/npx fleet ([^|>&;]*)/g)].map((m) => {
      const [command = '', ...args] = m[1]!.trim().split(/\s+/);
      return { command, args };
    }),
  );
}

describe('examples/release-pipeline.yml', () => {
  it('runs only fleet commands that exist, and migrate only with flags it takes', () => {
    const calls = fleetInvocations();
    expect(calls.length).toBeGreaterThan(0);
    for (const call of calls) {
      expect(FLEET_COMMANDS, `fleet ${call.command}`).toContain(call.command);
      if (call.command === 'migrate') {
        for (const flag of call.args.filter((a) => a.startsWith('-'))) expect(MIGRATE_FLAGS, flag).toContain(flag.split('=')[0]);
      }
    }
  });

  it('lints and checks the migrations, synthesizes, checks the policy, deploys, migrates pre-deploy (canary, then the fleet), deploys the release, then migrates post-deploy', () => {
    const order = [
      /^npm ci$/,
      /^npx fleet migration lint$/,
      /^npx fleet migration check$/,
      /^npm run synth$/,
      /^npm run policy$/,
      /terraform .* apply /,
      /npx fleet migrate --phase pre-deploy --canary 10 --json/,
      /npx fleet migrate --phase pre-deploy --json/,
      /deploy the application release/,
      /npx fleet migrate --phase post-deploy --json/,
    ];
    const positions = order.map(indexOf);
    expect(
      positions.every((p) => p >= 0),
      String(positions),
    ).toBe(true);
    expect([...positions].sort((a, b) => a - b)).toEqual(positions);
    // The jobs run in that order too: each needs the one before.
    expect(workflow.jobs.infrastructure?.needs).toBe('check');
    expect(workflow.jobs.migrate?.needs).toBe('infrastructure');
    expect(workflow.jobs.deploy?.needs).toBe('migrate');
    expect(workflow.jobs['post-deploy']?.needs).toBe('deploy');
  });

  it('runs every fleet command under bash with pipefail, each script starting with set -euo pipefail', () => {
    expect((workflow as unknown as { defaults?: { run?: { shell?: string } } }).defaults?.run?.shell).toBe('bash');
    const scripts = jobsInOrder.flatMap((job) => job.steps.map((s) => s.run ?? '')).filter((run) => run.includes('npx fleet'));
    expect(scripts.length).toBeGreaterThanOrEqual(5);
    for (const run of scripts) expect(run.trim().split('\n')[0], run).toBe('set -euo pipefail');
  });

  it('the post-deploy migrate runs as the migration runner role too, without an environment', () => {
    const post = workflow.jobs['post-deploy']!;
    const credentials = post.steps.find((s) => s.uses?.startsWith('aws-actions/configure-aws-credentials'));
    expect(credentials?.with?.['role-to-assume']).toMatch(/MIGRATION_RUNNER_ROLE_ARN/);
    expect(post.environment).toBeUndefined();
  });

  it('deploys the data stacks before the access stack, with Terraform 1.10 or later', () => {
    expect(lines.find((l) => l.startsWith('for stack in'))).toMatch(/grep '\^data-'\) access;/);
    const terraform = jobsInOrder.flatMap((j) => j.steps).find((s) => s.uses?.startsWith('hashicorp/setup-terraform'));
    const [major, minor] = String(terraform?.with?.terraform_version).split('.').map(Number);
    expect(major === 1 && minor! >= 10).toBe(true);
  });

  it('migrates as the migration runner role, through OIDC, from a branch the role trusts', () => {
    expect(workflow.permissions['id-token']).toBe('write');
    const migrate = workflow.jobs.migrate!;
    const credentials = migrate.steps.find((s) => s.uses?.startsWith('aws-actions/configure-aws-credentials'));
    expect(credentials?.with?.['role-to-assume']).toMatch(/MIGRATION_RUNNER_ROLE_ARN/);
    const firstMigrate = migrate.steps.findIndex((s) => s.run?.includes('npx fleet migrate'));
    expect(migrate.steps.indexOf(credentials!)).toBeLessThan(firstMigrate);
    // An environment would turn the OIDC subject into repo:…:environment:…, which the role does not trust.
    expect(migrate.environment).toBeUndefined();
    const fleet = defaultFleet();
    for (const branch of workflow.on.push?.branches ?? []) expect(fleet.oidc.branches).toContain(branch);
  });
});
