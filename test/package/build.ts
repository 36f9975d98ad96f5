/**
 * Global setup of the projects that run the built CLI or the built package: bring dist/ up to
 * date first (scripts/build-if-stale.mjs: tsc only when a source is newer than the last build), so
 * a test never spawns a stale build of the code it checks.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

export default async function build(): Promise<void> {
  const result = await execa(process.execPath, [path.join(ROOT, 'scripts', 'build-if-stale.mjs')], { cwd: ROOT, reject: false, all: true });
  if (result.exitCode !== 0)
    throw new Error(`npm run build failed, so the tests cannot run the built CLI:\n${result.all ?? result.message}`);
}
