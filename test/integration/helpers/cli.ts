/** Run the real `fleet` CLI as a child process, the way a pipeline or an operator does. */
import path from 'node:path';
import { execa } from 'execa';
import { PACKAGE_ROOT } from '../../../src/config/load.ts';

export const FLEET_BIN = path.join(PACKAGE_ROOT, 'bin', 'fleet.js');

export interface CliResult {
  readonly exitCode: number;
  readonly stdout: string;
  readonly stderr: string;
}

export function cliEnv(url: string, extra: Record<string, string> = {}): Record<string, string> {
  return { FLEET_DATABASE_URL: url, FLEET_REGION: 'local', FLEET_ACTOR: 'test-cli', NO_COLOR: '1', ...extra };
}

/** Start the CLI without waiting: the caller can signal or kill it, then await it for the result. */
export function startFleet(args: readonly string[], env: Record<string, string>) {
  return execa('node', [FLEET_BIN, ...args], { reject: false, env, all: false });
}

export async function runFleet(args: readonly string[], env: Record<string, string>): Promise<CliResult> {
  const result = await startFleet(args, env);
  return { exitCode: result.exitCode ?? -1, stdout: String(result.stdout), stderr: String(result.stderr) };
}
