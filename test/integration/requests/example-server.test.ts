import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect, test } from 'vitest';
import { useTestDatabase } from '../helpers/database.ts';
import { PACKAGE_ROOT } from '../../../src/config/load.ts';

const db = useTestDatabase('addon_main');

test('npm run example:server: listens, answers /healthz and a refused request as JSON, stops cleanly on SIGTERM', async () => {
  const home = mkdtempSync(path.join(tmpdir(), 'tenant-fleet-test-addon-'));
  const child = spawn(process.execPath, ['--import', 'tsx', 'examples/addon-server/main.ts'], {
    cwd: PACKAGE_ROOT,
    env: {
      ...process.env,
      FLEET_DATABASE_URL: db().url,
      FLEET_REGION: 'local',
      FLEET_HOME: home,
      FLEET_APP_SECRET: 'example-server-test-secret-0123456789abcdef',
      PORT: '0',
      FORGE_APP_ID: 'ari:cloud:ecosystem::app/test',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  try {
    const address = await new Promise<string>((resolve, reject) => {
      child.stdout.on('data', (chunk: Buffer) => {
        out += chunk.toString('utf8');
        const match = /"address":"(http:\/\/127\.0\.0\.1:\d+)"/.exec(out);
        if (match) resolve(match[1] as string);
      });
      child.stderr.on('data', (chunk: Buffer) => (out += chunk.toString('utf8')));
      void exited.then((code) => reject(new Error(`the server exited (${String(code)}) before listening:\n${out}`)));
    });
    const health = await fetch(`${address}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ ok: true });
    const refused = await fetch(`${address}/connect/api/issues?jwt=not-a-token`);
    expect(refused.status).toBe(401);
    expect(await refused.json()).toEqual({ error: 'TOKEN_MALFORMED', message: 'the token is not a JWT' });
    const unknown = await fetch(`${address}/nowhere`);
    expect(await unknown.json()).toEqual({ error: 'NOT_FOUND', message: 'no such route' });

    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(out).toContain('"msg":"stopped"');
    // The query string (which can carry a token) never reaches the log.
    expect(out).not.toContain('not-a-token');
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
    rmSync(home, { recursive: true, force: true });
  }
});
