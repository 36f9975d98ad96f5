#!/usr/bin/env node
// The CLI runs from TypeScript source through tsx's loader: no build step, so a fresh clone's
// `npx fleet` works right after `npm install`, and tsx's cache keeps start-up near plain node.
import { register } from 'tsx/esm/api';

register();
const { runCli } = await import('../scripts/fleet.ts');
await runCli(process.argv);
