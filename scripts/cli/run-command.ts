import { FleetError, isUsageError } from '../../src/errors.ts';
import { loadFleetConfig } from '../../src/config/load.ts';
import { openFleet, type Fleet, type OpenFleetOptions } from '../../src/fleet.ts';
import { currentActor } from './actor.ts';
import { createOutput, type Output } from './output.ts';

/** Options every command accepts (set on the root program). */
export interface GlobalOptions {
  readonly config?: string;
  readonly migrationsDir?: string;
}

export const EXIT = { ok: 0, failed: 1, usage: 2 } as const;

/**
 * Run a command body and turn its outcome into an exit code: 0 all went well, 1 a tenant (or the
 * database) failed, 2 bad usage, configuration or migration files. Errors are printed with their
 * code, the value at fault and the fix; as JSON too when --json is on.
 */
export async function runCommand(json: boolean, body: (out: Output) => Promise<number>): Promise<void> {
  const out = createOutput(json);
  try {
    process.exitCode = await body(out);
  } catch (error) {
    const usage = isUsageError(error);
    if (error instanceof FleetError) {
      if (json) out.printJson({ ok: false, error: { code: error.code, message: error.message, problems: error.problems } });
      out.error(`${out.red('error')} [${error.code}] ${error.message}`);
    } else {
      if (json) out.printJson({ ok: false, error: { code: 'UNEXPECTED', message: (error as Error).message } });
      out.error(`${out.red('error')} ${(error as Error).stack ?? String(error)}`);
    }
    process.exitCode = usage ? EXIT.usage : EXIT.failed;
  }
}

export interface FleetCommandOptions {
  readonly regions?: readonly string[];
  readonly concurrency?: number;
}

/** Open the fleet for one command and always close it (which stops the embedded server we started). */
export async function withFleet<T>(globals: GlobalOptions, options: FleetCommandOptions, fn: (fleet: Fleet) => Promise<T>): Promise<T> {
  const config = loadFleetConfig(globals.config ?? undefined);
  const open: OpenFleetOptions = {
    config,
    actor: currentActor(),
    ...(globals.migrationsDir ?? process.env.FLEET_MIGRATIONS_DIR ? { migrationsDir: globals.migrationsDir ?? process.env.FLEET_MIGRATIONS_DIR } : {}),
    ...(options.regions ? { regions: options.regions } : {}),
    ...(options.concurrency !== undefined ? { concurrency: options.concurrency } : {}),
    ...(process.env.FLEET_HOME ? { embeddedDir: process.env.FLEET_HOME } : {}),
  };
  const fleet = await openFleet(open);
  try {
    return await fn(fleet);
  } finally {
    await fleet.close();
  }
}
