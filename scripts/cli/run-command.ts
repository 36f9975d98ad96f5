import {
  databaseUserFor,
  embeddedRegions,
  FleetError,
  fleetHome,
  isUsageError,
  loadFleetConfig,
  openFleet,
  resolveTargets,
  type DatabaseRole,
  type Fleet,
  type OpenFleetOptions,
} from '../../src/index.ts';
import { enforceSupportExpiry } from '../../src/access/index.ts';
import { BrakeRefusal } from '../../src/purge/index.ts';
import { currentActor } from './actor.ts';
import { createOutput, type Output } from './output.ts';

/** Options every command accepts (set on the root program). */
export interface GlobalOptions {
  readonly config?: string;
  readonly migrationsDir?: string;
}

export const EXIT = { ok: 0, failed: 1, usage: 2 } as const;

/** Library options whose flag is not the option's name in kebab case. */
const FLAGS: Readonly<Record<string, string>> = { staleAfterDays: '--stale-after', allowNew: '--new' };

/** The flag that sets a library option: `now` is --now, `failFast` is --fail-fast. */
export function flagOf(option: string): string {
  return FLAGS[option] ?? `--${option.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
}

/**
 * Run a command body and turn its outcome into an exit code: 0 all went well, 1 a tenant (or the
 * database) failed, 2 bad usage, configuration or migration files. Errors are printed with their
 * code, the value at fault and the fix; as JSON too when --json is on.
 */
export async function runCommand(json: boolean, body: (out: Output) => Promise<number>): Promise<void> {
  const out = createOutput(json);
  try {
    const code = await body(out);
    // An interrupt already chose the exit code (130/143); the body's own verdict must not hide it.
    if (process.exitCode === undefined || process.exitCode === 0) process.exitCode = code;
  } catch (error) {
    const usage = isUsageError(error);
    if (error instanceof FleetError) {
      const message = error.describeWith(flagOf);
      // The brake's refusal carries what it refused: the tenants, by cause and by date.
      const refused = error instanceof BrakeRefusal ? { tenants: error.tenants, dueSummary: error.dueSummary } : {};
      if (json) out.printJson({ ok: false, error: { code: error.code, message, problems: error.problems, ...refused } });
      out.error(`${out.red('error')} [${error.code}] ${message}`);
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
  /** Which of the description's databaseUsers signs IAM tokens; default the migrator. */
  readonly role?: DatabaseRole;
  /**
   * Set for a command that deletes or disconnects: it refuses (exit 2) to run on the embedded
   * default unless `embedded` is true (the command's --embedded flag).
   */
  readonly destructive?: { readonly what: string; readonly embedded: boolean };
}

/** What a command body gets besides the fleet: an abort signal raised by Ctrl-C or SIGTERM. */
export interface CommandContext {
  readonly signal: AbortSignal;
}

/**
 * Open the fleet for one command and always close it (which stops the embedded server we started).
 * The first Ctrl-C (or SIGTERM) lets tenants in flight finish and starts no new one; a second one
 * leaves at once. Either way a rerun completes the job.
 */
export async function withFleet<T>(
  globals: GlobalOptions,
  options: FleetCommandOptions,
  fn: (fleet: Fleet, context: CommandContext) => Promise<T>,
): Promise<T> {
  const config = loadFleetConfig(globals.config ?? undefined);
  if (options.destructive && !options.destructive.embedded) {
    const targets = resolveTargets(config).filter(
      (t) => !options.regions || options.regions.length === 0 || options.regions.includes(t.region),
    );
    const embedded = embeddedRegions(targets);
    if (embedded.length > 0) {
      throw new FleetError(
        'INPUT_INVALID',
        `${options.destructive.what} would run against the embedded PostgreSQL under ${fleetHome()} (region ${embedded.join(', ')}): no FLEET_DATABASE_URL and no database endpoint in the fleet description. Set FLEET_DATABASE_URL (or regions[].database.host) to the fleet's database, or pass --embedded if the embedded one is really meant.`,
      );
    }
  }
  const migrationsDir = globals.migrationsDir ?? process.env.FLEET_MIGRATIONS_DIR;
  const open: OpenFleetOptions = {
    config,
    actor: currentActor(),
    iamUser: databaseUserFor(config, options.role ?? 'migrator'),
    ...(migrationsDir ? { migrationsDir } : {}),
    ...(options.regions ? { regions: options.regions } : {}),
    ...(options.concurrency !== undefined ? { concurrency: options.concurrency } : {}),
    ...(process.env.FLEET_HOME ? { embeddedDir: process.env.FLEET_HOME } : {}),
  };
  const fleet = await openFleet(open);
  // Expired support grants end at the next fleet command, scheduled sweep or not (src/access/support.ts).
  // Not under the purge user: it may only purge (the stacks grant it nothing on support roles).
  if ((options.role ?? 'migrator') !== 'purge') {
    await enforceSupportExpiry(fleet).catch(async (error: unknown) => {
      await fleet.close();
      throw error;
    });
  }
  const controller = new AbortController();
  const onSignal = (signal: NodeJS.Signals) => {
    if (!controller.signal.aborted) {
      process.stderr.write(
        `\n${signal}: finishing the tenants in flight, starting no new one (again to leave now); run the same command again afterwards to finish the job\n`,
      );
      process.exitCode = signal === 'SIGINT' ? 130 : 143;
      controller.abort();
      return;
    }
    void fleet.close().finally(() => process.exit(signal === 'SIGINT' ? 130 : 143));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    const result = await fn(fleet, { signal: controller.signal });
    return result;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await fleet.close();
  }
}
