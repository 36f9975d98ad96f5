import { afterAll, describe, expect, it } from 'vitest';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { parse } from 'yaml';
import { PACKAGE_ROOT } from '../../src/config/load.ts';
import { PURGE_PIPELINE_ENVIRONMENT, purgePipelineRoleName } from '../../stacks/naming.ts';
import { cleanTempDirs, defaultFleet, tempDir } from './fixtures.ts';

afterAll(cleanTempDirs);

interface Step {
  readonly name?: string;
  readonly uses?: string;
  readonly run?: string;
  readonly shell?: string;
  readonly if?: string;
  readonly with?: Record<string, unknown>;
}
interface Job {
  readonly environment?: unknown;
  readonly env?: Record<string, string>;
  readonly strategy?: { 'fail-fast'?: boolean; matrix?: { region?: string[] } };
  readonly steps: Step[];
}
interface Workflow {
  readonly permissions: Record<string, string>;
  readonly jobs: Record<string, Job>;
}

const workflow = parse(readFileSync(path.join(PACKAGE_ROOT, 'examples', 'nightly-purge.yml'), 'utf8')) as Workflow;
const job = workflow.jobs.purge!;
const fleet = defaultFleet();

/**
 * The command line GitHub Actions runs a `run:` step with on Linux: `shell: bash` means
 * `bash --noprofile --norc -eo pipefail {0}`; no shell at all means `bash -e {0}`, without pipefail.
 * https://docs.github.com/actions/reference/workflow-syntax-for-github-actions#jobsjob_idstepsshell
 */
function shellOf(step: Step): string[] {
  if (step.shell === 'bash') return ['bash', '--noprofile', '--norc', '-eo', 'pipefail'];
  if (step.shell === undefined) return ['bash', '-e'];
  throw new Error(`step ${step.name ?? step.run}: shell ${step.shell} is not emulated here`);
}

/** `${{ matrix.region }}` in the job's env, as the runner expands it for one matrix leg. */
function jobEnv(region: string): Record<string, string> {
  return Object.fromEntries(Object.entries(job.env ?? {}).map(([key, value]) => [key, value.replaceAll('${{ matrix.region }}', region)]));
}

/**
 * Runs a step's script the way the runner does (script file, that shell, the job's env), in a
 * fresh directory, with a stub `npx` first on PATH that logs its arguments, prints a JSON document
 * to stdout and human text to stderr, and exits with `exitCode`.
 */
async function runStep(step: Step, region: string, exitCode: number) {
  const dir = tempDir('fleet-workflow-');
  const bin = path.join(dir, 'bin');
  mkdirSync(bin);
  const stub = path.join(bin, 'npx');
  writeFileSync(
    stub,
    `#!/usr/bin/env bash\nprintf '%s\\n' "$*" >> "${dir}/npx.log"\necho "purge: region $REGION, brake says no" >&2\necho '{"ok":${exitCode === 0}}'\nexit ${exitCode}\n`,
  );
  chmodSync(stub, 0o755);
  const script = path.join(dir, 'step.sh');
  writeFileSync(script, step.run ?? '');
  const [shell, ...args] = shellOf(step);
  const result = await execa(shell!, [...args, script], {
    cwd: dir,
    reject: false,
    env: { ...jobEnv(region), PATH: `${bin}:${process.env.PATH ?? ''}` },
    extendEnv: false,
  });
  const file = (name: string) => {
    try {
      return readFileSync(path.join(dir, name), 'utf8');
    } catch {
      return undefined;
    }
  };
  return { ...result, calls: (file('npx.log') ?? '').trim().split('\n').filter(Boolean), file };
}

const purgeSteps = job.steps.filter((s) => s.run?.includes('npx fleet purge'));

describe('examples/nightly-purge.yml', () => {
  it('runs one leg per region of the fleet, none cancelling the others', () => {
    expect(job.strategy?.matrix?.region).toEqual(fleet.regions.map((r) => r.name));
    expect(job.strategy?.['fail-fast']).toBe(false);
  });

  it("assumes the region's purge pipeline role through OIDC, from the environment the role trusts, before purging", () => {
    expect(workflow.permissions['id-token']).toBe('write');
    expect(job.environment).toBe(PURGE_PIPELINE_ENVIRONMENT);
    const credentials = job.steps.findIndex((s) => s.uses?.startsWith('aws-actions/configure-aws-credentials'));
    expect(credentials).toBeGreaterThanOrEqual(0);
    const roleArn = String(job.steps[credentials]!.with?.['role-to-assume']);
    for (const region of fleet.regions) {
      expect(roleArn.replaceAll('${{ matrix.region }}', region.name)).toMatch(new RegExp(`:role/${purgePipelineRoleName(fleet, region)}$`));
    }
    expect(purgeSteps.length).toBeGreaterThan(0);
    for (const step of purgeSteps) expect(job.steps.indexOf(step)).toBeGreaterThan(credentials);
  });

  it('keeps expressions out of the scripts (no template injection): values come in through env', () => {
    for (const step of job.steps.filter((s) => s.run)) expect(step.run).not.toContain('${{');
  });

  it('runs its purge under bash -eo pipefail, with set -euo pipefail, in one region per leg', () => {
    for (const step of purgeSteps) {
      expect(step.shell).toBe('bash');
      expect(step.run).toMatch(/^set -euo pipefail$/m);
    }
  });

  it.each(fleet.regions.map((r) => r.name))('fails the step when the purge in %s fails', async (region) => {
    for (const step of purgeSteps) {
      const result = await runStep(step, region, 1);
      expect(result.exitCode, result.stderr).not.toBe(0);
      expect(result.calls).toEqual([`fleet purge --execute --region ${region} --max 50 --json`]);
    }
  });

  it('passes when the purge succeeds, with only JSON in the report and the human text in the log', async () => {
    for (const step of purgeSteps) {
      const result = await runStep(step, 'eu', 0);
      expect(result.exitCode, result.stderr).toBe(0);
      expect(JSON.parse(result.file('purge-eu.json')!)).toEqual({ ok: true });
      expect(result.stderr).toContain('purge: region eu, brake says no');
      expect(result.stdout).toBe('');
    }
  });

  it('would catch the old recipe: `| tee` under the default shell hides a failed purge', async () => {
    // The harness itself must tell the two apart, or the tests above prove nothing.
    const old: Step = { run: 'npx fleet purge --execute --max 50 --json | tee purge.json\n' };
    expect((await runStep(old, 'eu', 1)).exitCode).toBe(0);
    expect((await runStep({ ...old, shell: 'bash' }, 'eu', 1)).exitCode).not.toBe(0);
  });
});
