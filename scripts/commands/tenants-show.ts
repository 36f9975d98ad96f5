import type { Command } from 'commander';
import { showTenant, type TenantDetails } from '../../src/index.ts';
import type { Output } from '../cli/output.ts';
import { positiveInt } from '../cli/parse.ts';
import { EXIT, runCommand, withFleet, type GlobalOptions } from '../cli/run-command.ts';
import { printAuditEvent } from './audit.ts';

function printTenant(out: Output, t: TenantDetails): void {
  out.line(`${out.bold(t.id)}  ${t.status}  region ${t.region}, schema ${t.schema}`);
  out.line(`  registered ${t.createdAt}; last contact ${t.lastContactAt ?? 'never'}`);
  if (t.disconnectedAt)
    out.line(`  disconnected ${t.disconnectedAt} (${t.disconnectCause ?? 'cause not recorded'}); purge after ${t.purgeAfter ?? '-'}`);
  if (t.purgedAt) out.line(`  purged ${t.purgedAt}`);
  if (t.hold)
    out.line(out.yellow(`  legal hold since ${t.hold.at ?? '?'} by ${t.hold.by ?? '?'}: ${t.hold.reason} (never purged while held)`));
  out.line(`  migrations (${t.migrations.length}):`);
  for (const m of t.migrations) out.line(`    ${m.name}  applied ${m.appliedAt} in ${m.durationMs} ms`);
  out.line(`  audit events (${t.audit.length}, newest first):`);
  for (const e of t.audit) printAuditEvent(out, e, '    ');
}

/** `fleet tenants show <id>`: one tenant in full, for the on-call engineer. */
export function registerTenantShowCommand(tenants: Command): void {
  tenants
    .command('show')
    .description(
      'one tenant in full: status, region, schema, disconnect cause and date, purge date, hold, migration history and audit events',
    )
    .argument('<id>', 'tenant id')
    .option('--audit-limit <n>', 'audit events shown (newest first)', positiveInt('--audit-limit', 10_000), 50)
    .option('--json', 'JSON: { id, region, schema, status, disconnectedAt, disconnectCause, purgeAfter, hold, migrations, audit }')
    .addHelpText(
      'after',
      `
Examples:
  $ fleet tenants show acme
  $ fleet tenants show acme --json | jq '.audit[] | select(.action == "stale")'

An id no region knows exits 2, naming the regions searched.`,
    )
    .action(async (id: string, flags: { auditLimit: number; json?: boolean }, command: Command) => {
      const globals = command.optsWithGlobals<GlobalOptions>();
      await runCommand(Boolean(flags.json), (out) =>
        withFleet(globals, { concurrency: 1 }, async (fleet) => {
          const tenant = await showTenant(fleet, id, { auditLimit: flags.auditLimit });
          if (out.json) out.printJson({ command: 'tenants show', ok: true, ...tenant });
          else printTenant(out, tenant);
          return EXIT.ok;
        }),
      );
    });
}
