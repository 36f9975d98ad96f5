import fs from 'node:fs/promises';
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { outsideDataRoot, sweepOrphanedDataRoots } from '../../../../src/db/embedded/data-dir.ts';

// Real directories under the real base (/var/tmp), each keyed by a unique owner path, removed afterwards.
const made: string[] = [];
afterEach(async () => {
  for (const dir of made.splice(0)) await fs.rm(dir, { recursive: true, force: true });
});

async function ownerDir(): Promise<string> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'fleet-sweep-owner-'));
  made.push(dir);
  return fs.realpath(dir);
}

/** A data root outside as ensureInitialised leaves it: owner file, PGDATA, and (linked) the owner's postgres-data symlink. */
async function dataRoot(owner: string, options: { linked: boolean; initdbInProgress?: boolean }): Promise<string> {
  const root = outsideDataRoot(owner);
  made.push(root);
  await fs.mkdir(path.join(root, 'postgres-data'), { recursive: true });
  await fs.writeFile(path.join(root, 'postgres-data', 'PG_VERSION'), '18\n');
  await fs.writeFile(path.join(root, 'owner'), `${owner}\n`);
  if (options.initdbInProgress) await fs.mkdir(path.join(root, 'postgres.initdb-abcd1234'));
  if (options.linked) await fs.symlink(path.join(root, 'postgres-data'), path.join(owner, 'postgres-data'));
  return root;
}

describe('sweepOrphanedDataRoots', () => {
  test('removes the data root of a removed directory, keeps a live one and one being initialised', async () => {
    const gone = await ownerDir();
    const orphan = await dataRoot(gone, { linked: true });
    await fs.rm(gone, { recursive: true, force: true });

    const live = await ownerDir();
    const kept = await dataRoot(live, { linked: true });

    const starting = await ownerDir();
    const initialising = await dataRoot(starting, { linked: false, initdbInProgress: true });

    const lines: string[] = [];
    const removed = await sweepOrphanedDataRoots((line) => lines.push(line));

    expect(removed).toContain(orphan);
    expect(existsSync(orphan)).toBe(false);
    expect(lines.some((line) => line.includes(gone))).toBe(true);
    expect(existsSync(kept)).toBe(true);
    expect(existsSync(initialising)).toBe(true);
  });

  test('a root whose directory was recreated without its link (a new clone at the same path) is removed; one without an owner file is left alone', async () => {
    const recreated = await ownerDir();
    const stale = await dataRoot(recreated, { linked: false });
    const unknown = outsideDataRoot(await ownerDir());
    made.push(unknown);
    await fs.mkdir(path.join(unknown, 'postgres-data'), { recursive: true });

    const removed = await sweepOrphanedDataRoots(() => undefined);
    expect(removed).toContain(stale);
    expect(existsSync(unknown)).toBe(true);
  });
});
