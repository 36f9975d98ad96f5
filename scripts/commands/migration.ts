import type { Command } from 'commander';
import { DEFAULT_MIGRATIONS_DIR, checkFleetMigrations, createMigrationFile, lintMigrationPaths } from '../../src/index.ts';
import { EXIT, runCommand, withFleet, type GlobalOptions } from '../cli/run-command.ts';

export function registerMigrationCommand(program: Command): void {
  const migration = program.command('migration').description('author tenant migrations');
  migration
    .command('new')
    .description('write the next numbered migration file')
    .argument('<name>', 'what it does, e.g. add_issue_labels')
    .option('--down', 'also write NNNN_name.down.sql')
    .option('--no-transaction', 'mark it -- fleet:no-transaction (e.g. CREATE INDEX CONCURRENTLY)')
    .option('--json', 'print { name, file, downFile } as JSON')
    .addHelpText(
      'after',
      `
Examples:
  $ fleet migration new add_issue_labels --down
  $ fleet migration new index_comments_author --no-transaction`,
    )
    .action(async (name: string, flags: { down?: boolean; transaction?: boolean; json?: boolean }, command: Command) => {
      const globals = command.optsWithGlobals<GlobalOptions>();
      await runCommand(Boolean(flags.json), async (out) => {
        const dir = globals.migrationsDir ?? process.env.FLEET_MIGRATIONS_DIR ?? DEFAULT_MIGRATIONS_DIR;
        const created = createMigrationFile(dir, name, { down: Boolean(flags.down), noTransaction: flags.transaction === false });
        if (out.json) out.printJson(created);
        else {
          out.line(`created ${created.file}`);
          if (created.downFile) out.line(`created ${created.downFile}`);
        }
        return EXIT.ok;
      });
    });

  migration
    .command('lint')
    .description("lint tenant migrations with squawk, the fleet's rules (no database needed)")
    .argument('[files...]', 'migration files; default every up file of the migrations directory')
    .option('--json', 'print { ok, files, findings: [{ file, line, column, rule, severity, message, help?, allowed? }] }')
    .addHelpText(
      'after',
      `
An error rule (a lock every tenant's table would wait on, or a change the running release breaks on)
fails the lint unless the file allows it in its leading comments:
  -- fleet:allow require-concurrent-index-creation: the table holds at most 50 rows per tenant
A post-deploy migration (-- fleet:phase post-deploy) may drop columns and tables.

Examples:
  $ fleet migration lint
  $ fleet migration lint migrations/tenant/0007_add_votes.sql --json

Exit codes: 0 no error, 1 an error rule broken and not allowed, 2 bad usage or files.`,
    )
    .action(async (paths: string[], flags: { json?: boolean }, command: Command) => {
      const globals = command.optsWithGlobals<GlobalOptions>();
      await runCommand(Boolean(flags.json), async (out) => {
        const dir = globals.migrationsDir ?? process.env.FLEET_MIGRATIONS_DIR ?? DEFAULT_MIGRATIONS_DIR;
        const report = await lintMigrationPaths(dir, paths);
        if (out.json) out.printJson(report);
        else {
          for (const f of report.findings) {
            const tag =
              f.allowed !== undefined
                ? out.dim(`allowed (${f.allowed})`)
                : f.severity === 'error'
                  ? out.red('error')
                  : out.yellow('warning');
            out.line(`${f.file}:${f.line}:${f.column}: ${tag} ${f.rule}: ${f.message}${f.help ? out.dim(` (${f.help})`) : ''}`);
          }
          out.line(`${report.files.length} file(s) linted: ${report.ok ? out.green('ok') : out.red('refused')}`);
        }
        return report.ok ? EXIT.ok : EXIT.failed;
      });
    });

  migration
    .command('check')
    .description('prove every down file undoes its up, and every up runs again and on tables with rows (a scratch schema)')
    .option('--json', 'print { ok, checked: [file...], problems: [{ file, kind, detail }] }')
    .addHelpText(
      'after',
      `
In a scratch schema of the first region's database (the embedded one unless FLEET_DATABASE_URL
points elsewhere; created and dropped by the check, no tenant sees it): apply the migrations in
order; for each with a down file, compare the catalog before the up with the catalog after up +
down (fleet verify's comparison), then apply the up again. Every up also runs once on the schema
with a few rows in every table (rolled back), so a NOT NULL without default or a bad cast fails here.

Problem kinds: down-not-inverse, down-failed, up-not-rerunnable, up-fails-on-data, up-failed.

Examples:
  $ fleet migration check
  $ fleet migration check --json | jq '.problems[]'

Exit codes: 0 every file passes, 1 a problem (listed), 2 bad usage or files.`,
    )
    .action(async (flags: { json?: boolean }, command: Command) => {
      const globals = command.optsWithGlobals<GlobalOptions>();
      await runCommand(Boolean(flags.json), (out) =>
        withFleet(globals, { concurrency: 1 }, async (fleet) => {
          const report = await checkFleetMigrations(fleet);
          if (out.json) out.printJson(report);
          else {
            for (const p of report.problems) out.line(`${out.red(p.kind)} ${p.file}: ${p.detail}`);
            out.line(
              `${report.checked.length} down file(s) checked: ${report.ok ? out.green('ok') : out.red(`${report.problems.length} problem(s)`)}`,
            );
          }
          return report.ok ? EXIT.ok : EXIT.failed;
        }),
      );
    });
}
