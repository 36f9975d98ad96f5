import { printable } from '../../src/access/index.ts';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { FleetError, type Fleet } from '../../src/index.ts';
import {
  openTenantAccess,
  type TenantAccess,
  type TenantAccessOptions,
  isDatabaseRefusal,
  runTenantSql,
  type StatementResult,
} from '../../src/access/index.ts';
import type { Output } from '../cli/output.ts';
import { EXIT, runCommand, withFleet, type GlobalOptions } from '../cli/run-command.ts';

interface SqlFlags {
  tenant?: string;
  command?: string;
  file?: string;
  write?: boolean;
  json?: boolean;
}

/**
 * How the CLI connects as the tenant's session role: the application secret from FLEET_APP_SECRET,
 * else the credentials file under FLEET_HOME (or .fleet/credentials). One connection at a time.
 */
export function accessOptionsFromEnv(env: NodeJS.ProcessEnv = process.env): TenantAccessOptions {
  return {
    maxConnections: 1,
    ...(env.FLEET_APP_SECRET ? { appSecret: env.FLEET_APP_SECRET } : {}),
    ...(env.FLEET_HOME ? { credentialsDir: path.join(env.FLEET_HOME, 'credentials') } : {}),
  };
}

export async function withAccess<T>(fleet: Fleet, fn: (access: TenantAccess) => Promise<T>): Promise<T> {
  const access = await openTenantAccess(fleet, accessOptionsFromEnv());
  try {
    return await fn(access);
  } finally {
    await access.close();
  }
}

export function registerSqlCommand(program: Command): void {
  program
    .command('sql')
    .description("run SQL in one tenant's scope, as that tenant's role: read-only unless --write, audited")
    .requiredOption('--tenant <id>', 'the tenant whose schema and role the SQL runs with')
    .option('-c, --command <sql>', 'the SQL to run')
    .option('-f, --file <path>', 'read the SQL from a file')
    .option('--write', 'allow writes (default: the transaction is READ ONLY)')
    .option('--json', 'one JSON document: tenant, region, and per statement its command, rowCount and rows')
    .addHelpText(
      'after',
      `
Examples:
  $ fleet sql --tenant acme -c "SELECT key, summary FROM issues ORDER BY updated_at DESC LIMIT 5"
  $ fleet sql --tenant acme -f fix-labels.sql --write
  $ fleet sql --tenant acme -c "SELECT count(*) FROM comments" --json | jq '.statements[0].rows'

The statements run in one transaction, connected as the tenant's own session role (a login that is a
member of that tenant's role only) with SET LOCAL ROLE to the tenant's role and its schema on the
search_path: other tenants' schemas and roles and the control schema are refused by PostgreSQL. Every run is written to the audit log (actions sql, sql.done, sql.failed).
Exit codes: 0 done, 1 PostgreSQL refused the SQL (its message is printed; nothing was committed),
2 bad usage (no SQL, both -c and -f, a bad tenant id, BEGIN/COMMIT in the SQL).`,
    )
    .action(async (flags: SqlFlags, command: Command) => {
      const globals = command.optsWithGlobals<GlobalOptions>();
      await runCommand(Boolean(flags.json), async (out) => {
        if ((flags.command === undefined) === (flags.file === undefined)) {
          throw new FleetError('INPUT_INVALID', 'give the SQL with exactly one of -c "SQL" or -f FILE');
        }
        const sql = flags.command ?? readSqlFile(flags.file as string);
        return withFleet(globals, { concurrency: 1 }, (fleet) =>
          withAccess(fleet, async (access) => {
            try {
              const result = await runTenantSql(access, {
                tenantId: flags.tenant as string,
                sql,
                write: Boolean(flags.write),
                source: flags.file ?? '-c',
              });
              if (out.json) out.printJson({ command: 'sql', ok: true, ...result });
              else printStatements(out, result.statements);
              return EXIT.ok;
            } catch (error) {
              if (!isDatabaseRefusal(error)) throw error;
              if (out.json)
                out.printJson({ command: 'sql', ok: false, error: { code: 'POSTGRES', sqlstate: error.code, message: error.message } });
              out.error(
                `${out.red('error')} PostgreSQL refused the SQL (SQLSTATE ${error.code}): ${printable(error.message)}. Nothing was committed.`,
              );
              return EXIT.failed;
            }
          }),
        );
      });
    });
}

function readSqlFile(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    throw new FleetError('INPUT_INVALID', `cannot read -f ${file}: ${(error as Error).message}`);
  }
}

function printStatements(out: Output, statements: readonly StatementResult[]): void {
  for (const s of statements) {
    if (s.fields.length > 0) {
      out.line(s.fields.map(printable).join('\t'));
      for (const row of s.rows) out.line(s.fields.map((f) => cell(row[f])).join('\t'));
      out.error(out.dim(`(${s.rows.length} row${s.rows.length === 1 ? '' : 's'})`));
    } else {
      out.line(`${s.command}${s.rowCount !== null && s.command !== 'SET' ? ` ${s.rowCount}` : ''}`);
    }
  }
}

function cell(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (value instanceof Date) return value.toISOString();
  if (typeof value === 'object') return printable(JSON.stringify(value));
  // Terminal escape sequences in a row are shown, never obeyed.
  return printable(String(value));
}
