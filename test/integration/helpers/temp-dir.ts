/** Temporary directories for a test file, removed when the file's tests are done. */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll } from 'vitest';
import { TEMP_DIR_PREFIX } from '../global-setup.ts';

const made: string[] = [];

// Registered when a test file first imports this module: it runs after that file's tests.
afterAll(() => {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A fresh empty directory under the OS temp dir, removed after the test file (the harness sweeps what a killed run left). */
export function tempDir(label: string): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), `${TEMP_DIR_PREFIX}${label}-`));
  made.push(dir);
  return dir;
}
