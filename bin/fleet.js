#!/usr/bin/env node
// The CLI runs the build in dist/ (`npm run build`; `npm install` in a clone builds it through
// `prepare`, and `npm start` and the tests rebuild what changed).
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const entry = path.join(root, 'dist', 'scripts', 'fleet.js');
if (!existsSync(entry)) {
  console.error(`tenant-fleet: ${entry} is missing. Run \`npm run build\` in ${root} and retry.`);
  process.exit(2);
}
const { runCli } = await import(pathToFileURL(entry).href);
await runCli(process.argv);
