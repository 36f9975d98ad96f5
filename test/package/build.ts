/**
 * Global setup of the projects that run the built CLI or the built package: bring dist/ up to
 * date first (an incremental tsc, about a second when nothing changed), so a test never spawns
 * a stale build of the code it checks.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

export default async function build(): Promise<void> {
  const result = await execa(path.join(ROOT, 'node_modules', '.bin', 'tsc'), ['-p', 'tsconfig.build.json'], { cwd: ROOT, reject: false, all: true });
  if (result.exitCode !== 0) throw new Error(`npm run build failed, so the tests cannot run the built CLI:\n${result.all ?? result.message}`);
}
