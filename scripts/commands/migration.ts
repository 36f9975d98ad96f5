import type { Command } from 'commander';
import { DEFAULT_MIGRATIONS_DIR, createMigrationFile } from '../../src/index.ts';
import { EXIT, runCommand, type GlobalOptions } from '../cli/run-command.ts';

export function registerMigrationCommand(program: Command): void {
  const migration = program.command('migration').description('author tenant migrations');
  migration
    .command('new')
    .description('write the next numbered migration file')
    .argument('<name>', 'what it does, e.g. add_issue_labels')
    .option('--down', 'also write NNNN_name.down.sql')
    .option('--no-transaction', 'mark it -- fleet:no-transaction (e.g. CREATE INDEX CONCURRENTLY)')
    .option('--json', 'print { name, file, downFile } as JSON')
    .addHelpText('after', `
Examples:
  $ fleet migration new add_issue_labels --down
  $ fleet migration new index_comments_author --no-transaction`)
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
}
