import { Command, CommanderError } from 'commander';
import { registerStartCommand } from './commands/start.ts';
import { registerTenantsCommand } from './commands/tenants.ts';
import { registerMigrateCommand } from './commands/migrate.ts';
import { registerRollbackCommand } from './commands/rollback.ts';
import { registerStatusCommand } from './commands/status.ts';
import { registerMigrationCommand } from './commands/migration.ts';
import { registerVerifyCommand } from './commands/verify.ts';
import { registerPolicyCommand } from './commands/policy.ts';
import { registerSqlCommand } from './commands/sql.ts';
import { registerSupportCommand } from './commands/support.ts';
import { registerTenantLifecycleCommands } from './commands/tenants-lifecycle.ts';
import { registerTenantsMoveCommand } from './commands/tenants-move.ts';
import { registerTenantsExportCommand } from './commands/tenants-export.ts';
import { registerTenantsRestoreCommand } from './commands/tenants-restore.ts';
import { registerPurgeCommand } from './commands/purge.ts';
import { registerLifecycleCommand } from './commands/lifecycle.ts';
import { registerAuditCommand } from './commands/audit.ts';
import { registerTenantShowCommand } from './commands/tenants-show.ts';
import { EXIT } from './cli/run-command.ts';

/**
 * The `fleet` program with every command registered, argv not parsed: `runCli` runs it, the
 * CLI-reference generator (scripts/docs/cli-reference.ts) walks it to write README.md's reference.
 */
export function buildProgram(): Command {
  const program = new Command('fleet')
    .description('tenant-fleet: migrate, provision and operate every tenant schema of every regional database')
    .option('--config <path>', 'fleet description (default: FLEET_CONFIG, ./fleet.config.json, or the package one)')
    .option('--migrations-dir <dir>', 'tenant migrations (default: FLEET_MIGRATIONS_DIR or migrations/tenant)')
    .showHelpAfterError('(run with --help for usage)')
    .addHelpText(
      'after',
      `
Where it connects: FLEET_DATABASE_URL (one region, named by FLEET_REGION, default "local"), else each
region's endpoint in the fleet description (IAM auth, verified TLS), else an embedded PostgreSQL under FLEET_HOME (default ./.fleet).
As whom (IAM): purge as databaseUsers.purge, support as databaseUsers.support, everything else as
databaseUsers.migrator. Destructive commands refuse the embedded default unless --embedded.

Exit codes: 0 done, 1 a tenant or the database failed (or a brake refused), 2 bad usage,
configuration or migration files, 130 interrupted (Ctrl-C), 143 terminated (SIGTERM); after an
interrupt, run the same command again to finish. With --json, stdout carries exactly one JSON
document (errors too: { ok: false, error: { code, message } }); human text, progress and the
heartbeat (every 10 s off a terminal) go to stderr.

Examples:
  $ npx fleet start
  $ npx fleet tenants add acme --region eu
  $ npx fleet migrate --canary 10 --json
  $ npx fleet status`,
    );

  registerStartCommand(program);
  const tenants = registerTenantsCommand(program);
  registerTenantLifecycleCommands(tenants);
  registerTenantShowCommand(tenants);
  registerTenantsMoveCommand(tenants);
  registerTenantsExportCommand(tenants);
  registerTenantsRestoreCommand(tenants);
  registerMigrateCommand(program);
  registerRollbackCommand(program);
  registerStatusCommand(program);
  registerMigrationCommand(program);
  registerPolicyCommand(program);
  registerSqlCommand(program);
  registerSupportCommand(program);
  registerVerifyCommand(program);
  registerPurgeCommand(program);
  registerLifecycleCommand(program);
  registerAuditCommand(program);

  return program;
}

/** Parse argv and run the command; the exit code goes to process.exitCode (bin/fleet.js calls this). */
export async function runCli(argv: readonly string[]): Promise<void> {
  const program = buildProgram();

  // `fleet tenants list | head`: a closed pipe is the reader's choice, not an error. The command
  // still runs to its end, so the fleet is closed and the embedded server released.
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') throw error;
  });

  // Bad usage exits 2, help and version 0: commander's own default would be 1 for both kinds.
  program.exitOverride();
  for (const sub of program.commands) {
    sub.exitOverride();
    for (const leaf of sub.commands) leaf.exitOverride();
  }

  try {
    await program.parseAsync(argv);
  } catch (error) {
    if (error instanceof CommanderError) {
      process.exitCode = error.exitCode === 0 ? EXIT.ok : EXIT.usage;
      // A pipeline reading stdout as JSON gets the error as JSON too (commander wrote the human form to stderr).
      if (error.exitCode !== 0 && argv.includes('--json')) {
        process.stdout.write(
          `${JSON.stringify({ ok: false, error: { code: 'USAGE', message: error.message.replace(/^error: /, ''), commander: error.code } })}\n`,
        );
      }
    } else {
      throw error;
    }
  }
}
