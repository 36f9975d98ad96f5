/** The CLI as a `set -euo pipefail` pipeline reads it: JSON only on stdout, a heartbeat on stderr, 143 on SIGTERM. */
import { describe, expect, test } from 'vitest';
import { useTestDatabase } from '../helpers/database.ts';
import { cliEnv, runFleet, startFleet } from '../helpers/cli.ts';

const db = useTestDatabase('machinecli');

describe('--json and the heartbeat', () => {
  test('stdout is exactly one JSON document; the heartbeat and human text go to stderr', async () => {
    const ids = Array.from({ length: 12 }, (_, i) => `m-${i}`);
    const r = await runFleet(['tenants', 'add', ...ids, '--json'], cliEnv(db().url, { FLEET_HEARTBEAT_MS: '20' }));
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout.trim().split('\n')).toHaveLength(1);
    expect(JSON.parse(r.stdout)).toMatchObject({ command: 'tenants add', ok: true });
    expect(r.stderr).toMatch(/^fleet add: \d+\/12 tenants, 0 failed, [\d.]+ tenants\/s, \d+ s elapsed$/m);
  });

  test('SIGTERM mid-run: exit 143, stdout still one JSON document with ok false and the run stopped as interrupted', async () => {
    const ids = Array.from({ length: 80 }, (_, i) => `sig-${i}`);
    const child = startFleet(['tenants', 'add', ...ids, '--concurrency', '1', '--json'], cliEnv(db().url, { FLEET_HEARTBEAT_MS: '25' }));
    // The first heartbeat says the run is under way: then the pipeline's runner cancels it.
    await new Promise<void>((resolve) => {
      child.stderr?.on('data', (chunk: Buffer) => {
        if (/fleet add: \d+\/80/.test(String(chunk))) resolve();
      });
    });
    child.kill('SIGTERM');
    const result = await child;
    expect(result.exitCode, String(result.stderr)).toBe(143);
    const lines = String(result.stdout).trim().split('\n');
    expect(lines).toHaveLength(1);
    const report = JSON.parse(lines[0]!) as { ok: boolean; migrate: { stopped?: string; summary: { applied: number } } };
    expect(report.ok).toBe(false);
    expect(report.migrate.stopped).toBe('interrupted');
    expect(report.migrate.summary.applied).toBeLessThan(80);
    expect(String(result.stderr)).toMatch(/SIGTERM: finishing the tenants in flight.*run the same command again/);

    // Run again: it finishes the job.
    const rerun = await runFleet(['tenants', 'add', ...ids, '--json'], cliEnv(db().url));
    expect(rerun.exitCode, rerun.stderr).toBe(0);
    const list = JSON.parse((await runFleet(['tenants', 'list', '--json'], cliEnv(db().url))).stdout) as Array<{
      id: string;
      status: string;
    }>;
    expect(list.filter((t) => t.id.startsWith('sig-') && t.status === 'active')).toHaveLength(80);
  });
});
