/**
 * The package as an add-on gets it: `npm pack`, install the tarball into an empty directory (its
 * dependencies from the registry or npm's cache), import every subpath of the exports map from
 * plain JavaScript, and type-check a consumer against the shipped .d.ts files. Subpaths whose
 * source does not exist yet are skipped, visibly.
 */
import { chmodSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { stopEmbeddedServerIfUnused } from '../../src/db/embedded/index.ts';
import { codeSubpaths, ROOT } from './exports.ts';

const { present, missing } = codeSubpaths();
const DEV_DEPENDENCIES = (JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { devDependencies: Record<string, string> })
  .devDependencies;
const NODE_TYPES = DEV_DEPENDENCIES['@types/node'];
/** The optional peer an add-on brings when it uses `tenant-fleet/requests/fastify`. */
const FASTIFY = DEV_DEPENDENCIES['fastify'];
/** Names each present subpath must export, a sample: what an add-on or operator reaches for first. */
const EXPECTED: Record<string, readonly string[]> = {
  'tenant-fleet': ['openFleet', 'migrateFleet', 'fleetStatus', 'loadFleetConfig', 'FleetError'],
  'tenant-fleet/access': ['openTenantAccess'],
  'tenant-fleet/lifecycle': ['installTenant', 'uninstallTenant', 'touchTenant'],
  'tenant-fleet/purge': ['purgeFleet'],
};

let work: string;
let consumer: string;
let tarball: string;

beforeAll(async () => {
  work = mkdtempSync(path.join(os.tmpdir(), 'tenant-fleet-pack-'));
  // As an application's directory usually is: open to the postgres user the embedded server runs as under root.
  chmodSync(work, 0o755);
  consumer = path.join(work, 'consumer');
  // The project's global setup built dist/; `prepare` would build it again while integration
  // tests may be running the CLI from it.
  const packed = await execa('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', work], { cwd: ROOT });
  const [info] = JSON.parse(packed.stdout) as Array<{ filename: string; files: Array<{ path: string }> }>;
  if (!info) throw new Error(`npm pack printed no result: ${packed.stdout}`);
  tarball = path.join(work, info.filename);
  mkdirSync(consumer);
  writeFileSync(path.join(consumer, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
  // @types/node is the consumer's own choice (its Node version), and so is Fastify (an optional peer);
  // the package brings the types of what its other .d.ts files name (pg).
  await execa(
    'npm',
    [
      'install',
      tarball,
      `@types/node@${NODE_TYPES}`,
      `fastify@${FASTIFY}`,
      '--prefer-offline',
      '--no-audit',
      '--no-fund',
      '--loglevel=error',
    ],
    { cwd: consumer },
  );
});

afterAll(async () => {
  const state = consumer ? path.join(consumer, '.fleet') : undefined;
  if (state && existsSync(state)) {
    await stopEmbeddedServerIfUnused(state).catch(() => undefined);
    // Were the data directory moved out (see src/db/embedded/data-dir.ts), it goes too.
    const data = path.join(state, 'postgres-data');
    if (lstatSync(data, { throwIfNoEntry: false })?.isSymbolicLink())
      rmSync(path.dirname(readlinkSync(data)), { recursive: true, force: true });
  }
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('the packed package', () => {
  test('the tarball holds the build, the migrations, the CLI and the default description, and no sources or tests', async () => {
    const listed = await execa('tar', ['-tzf', tarball]);
    const files = listed.stdout.split('\n').map((line) => line.replace(/^package\//, ''));
    for (const needed of [
      'package.json',
      'README.md',
      'bin/fleet.js',
      'fleet.config.json',
      'dist/src/index.js',
      'dist/src/index.d.ts',
      'dist/scripts/fleet.js',
    ])
      expect(files).toContain(needed);
    expect(files.some((file) => file.startsWith('migrations/tenant/'))).toBe(true);
    expect(files.some((file) => file.startsWith('migrations/control/'))).toBe(true);
    expect(files.filter((file) => /^(src|test|stacks|scripts)\//.test(file) || file.endsWith('.tsbuildinfo'))).toEqual([]);
  });

  for (const { specifier } of present) {
    test(`import ${specifier} from plain JavaScript`, async () => {
      const names = EXPECTED[specifier] ?? [];
      const script = `const m = await import(${JSON.stringify(specifier)});\nprocess.stdout.write(JSON.stringify(Object.keys(m)));\n`;
      writeFileSync(path.join(consumer, 'import-check.mjs'), script);
      const result = await execa(process.execPath, ['import-check.mjs'], { cwd: consumer });
      const exported = JSON.parse(result.stdout) as string[];
      expect(exported.length).toBeGreaterThan(0);
      for (const name of names) expect(exported).toContain(name);
    });
  }
  for (const { specifier, source } of missing) {
    test.skip(`${specifier}: its source ${path.relative(ROOT, source)} does not exist yet`, () => undefined);
  }

  test('the CLI of the installed package runs from its build', async () => {
    const result = await execa(path.join(consumer, 'node_modules', '.bin', 'fleet'), ['--help'], { cwd: consumer });
    expect(result.stdout).toMatch(/Usage: fleet/);
  });

  test('the installed CLI keeps its state (the embedded PostgreSQL) in the working directory, never in the package directory', async () => {
    const env = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? os.homedir(), NO_COLOR: '1' };
    const result = await execa(path.join(consumer, 'node_modules', '.bin', 'fleet'), ['status', '--json'], {
      cwd: consumer,
      env,
      extendEnv: false,
      reject: false,
      all: true,
    });
    expect(result.exitCode, result.all).toBe(0);
    expect(lstatSync(path.join(consumer, '.fleet', 'postgres-data')).isDirectory()).toBe(true);
    expect(existsSync(path.join(consumer, 'node_modules', 'tenant-fleet', '.fleet'))).toBe(false);
  });

  test('a TypeScript consumer type-checks against the shipped .d.ts files', async () => {
    const imports = present.map(({ specifier }, i) => `import * as entry${i} from ${JSON.stringify(specifier)};`).join('\n');
    writeFileSync(
      path.join(consumer, 'consumer.ts'),
      `${imports}
import { openFleet, loadFleetConfig, type Fleet, type MigrateReport } from 'tenant-fleet';
import { openTenantAccess, type TenantAccess } from 'tenant-fleet/access';

export async function countIssues(tenantId: string): Promise<number> {
  const fleet: Fleet = await openFleet({ config: loadFleetConfig() });
  const access: TenantAccess = await openTenantAccess(fleet);
  try {
    return await access.withTenant(tenantId, async (client) => (await client.query('SELECT 1')).rowCount ?? 0, { readOnly: true });
  } finally {
    await access.close();
    await fleet.close();
  }
}
export type Report = MigrateReport;
export const entries = [${present.map((_, i) => `entry${i}`).join(', ')}];
// @ts-expect-error: the shipped types are real, so a wrong argument fails the check
openFleet({ config: 42 });
`,
    );
    writeFileSync(
      path.join(consumer, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          target: 'ES2022',
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          strict: true,
          noEmit: true,
          skipLibCheck: false,
          types: ['node'],
        },
        files: ['consumer.ts'],
      }),
    );
    const result = await execa(process.execPath, [path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.json'], {
      cwd: consumer,
      reject: false,
      all: true,
    });
    expect(result.all).toBe('');
    expect(result.exitCode).toBe(0);
  });
});
