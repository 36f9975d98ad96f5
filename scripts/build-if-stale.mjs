#!/usr/bin/env node
// `npm start` and the test setup run the CLI from dist/. An incremental tsc costs seconds even when
// nothing changed (it still loads every file), so compare modification times first: dist/ is
// rebuilt only when a source it is built from is newer than the last build. Plain JavaScript, so
// it runs before anything is compiled.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync, utimesSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const stamp = path.join(root, 'dist', 'tsconfig.build.tsbuildinfo');
// What tsconfig.build.json compiles, and the files that change how it compiles.
const sources = ['src', 'scripts', 'stacks/policy', 'tsconfig.json', 'tsconfig.build.json', 'package.json'];
const skipped = new Set([path.join(root, 'scripts', 'bench')]);

function newest(entry) {
  if (skipped.has(entry)) return 0;
  const stat = statSync(entry, { throwIfNoEntry: false });
  if (!stat) return 0;
  if (!stat.isDirectory()) return stat.mtimeMs;
  let latest = 0;
  for (const name of readdirSync(entry)) latest = Math.max(latest, newest(path.join(entry, name)));
  return latest;
}

const built = statSync(stamp, { throwIfNoEntry: false })?.mtimeMs ?? 0;
const changed = Math.max(...sources.map((source) => newest(path.join(root, source))));
if (built === 0 || changed > built) {
  const tsc = path.join(root, 'node_modules', 'typescript', 'bin', 'tsc');
  const result = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], { cwd: root, stdio: 'inherit' });
  if (result.status !== 0) process.exit(result.status ?? 1);
  // tsc leaves its build info untouched when nothing needed emitting: mark the check as done.
  const now = new Date();
  utimesSync(stamp, now, now);
}
