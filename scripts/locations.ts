/**
 * `npm run locations`: write docs/hosting-locations.md from the fleet description.
 * `npm run locations -- --check` writes nothing and exits 1 if the file is out of date (for CI).
 * A bad description exits 2 with the same message synth gives.
 */
import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { loadFleetConfig, PACKAGE_ROOT } from '../src/config/load.ts';
import { hostingLocationsMarkdown } from '../stacks/locations.ts';
import { reportFleetError } from '../stacks/usage-error.ts';

const target = path.join(PACKAGE_ROOT, 'docs', 'hosting-locations.md');

try {
  const expected = hostingLocationsMarkdown(loadFleetConfig());
  if (process.argv.includes('--check')) {
    const current = existsSync(target) ? readFileSync(target, 'utf8') : '';
    if (current !== expected) {
      console.error(`${path.relative(process.cwd(), target)} is out of date: run \`npm run locations\` and commit it`);
      process.exitCode = 1;
    }
  } else {
    writeFileSync(target, expected);
    console.log(`wrote ${path.relative(process.cwd(), target)}`);
  }
} catch (error) {
  reportFleetError(error);
}
