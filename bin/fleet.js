#!/usr/bin/env node
// The CLI runs the build in dist/ (`npm run build`; `npm install` in a clone builds it through
// `prepare`, and `npm start` and the tests rebuild what changed).
import { existsSync } from 'node:fs';

const entry = new URL('../dist/scripts/fleet.js', import.meta.url);
if (!existsSync(entry)) {
  console.error(`tenant-fleet: ${entry.pathname} is missing. Run \`npm run build\` in ${new URL('..', import.meta.url).pathname} and retry.`);
  process.exit(2);
}
await import(entry.href);
