import type { Command } from 'commander';
import { verifyFleet, type TenantDrift, type VerifyReport } from '../../src/index.ts';
import type { Output } from '../cli/output.ts';
import { collect } from '../cli/parse.ts';
import { EXIT, runCommand, withFleet, type GlobalOptions } from '../cli/run-command.ts';

interface VerifyFlags {
  region?: string[];
  tenant?: string[];
  json?: boolean;
}

export function registerVerifyCommand(program: Command): void {
  program
    .command('verify')
    .description(
      "prove every tenant's schema is what its ledger says: compare each catalog with a reference built from the same migrations",
    )
    .option('--region <name>', 'only this region (repeatable)', collect)
    .option('--tenant <id>', 'only this tenant (repeatable)', collect)
    .option('--json', 'JSON: { ok, tenants, drifted: [{ tenant, region, schema, difference: { missing, extra, changed } }], regions }')
    .addHelpText(
      'after',
      `
Examples:
  $ fleet verify
  $ fleet verify --region eu --json | jq '.drifted[] | .tenant'

For each distinct set of applied migrations the reference is built in a scratch schema inside a
transaction that is rolled back; every tenant's catalog (tables, columns and types, nullability,
defaults, indexes, constraints, triggers, types, functions; the schema name taken out) is read with
one query per region. Run it when no migration is running: a tenant migrated meanwhile may show up.

Exit codes: 0 every tenant matches its ledger, 1 a tenant drifted (or the database failed),
2 bad usage, configuration or migration files.`,
    )
    .action(async (flags: VerifyFlags, command: Command) => {
      const globals = command.optsWithGlobals<GlobalOptions>();
      await runCommand(Boolean(flags.json), (out) =>
        withFleet(globals, { ...(flags.region ? { regions: flags.region } : {}), concurrency: 1 }, async (fleet) => {
          const report = await verifyFleet(fleet, { ...(flags.tenant ? { tenants: flags.tenant } : {}) });
          if (out.json) out.printJson({ command: 'verify', ...report });
          else printVerifyReport(out, report);
          return report.ok ? EXIT.ok : EXIT.failed;
        }),
      );
    });
}

const SHOWN_TENANTS = 50;
const SHOWN_ITEMS = 20;

function printDrift(out: Output, drift: TenantDrift): void {
  out.line(
    `${out.red('✗')} ${drift.region}/${drift.tenant} (schema ${drift.schema}, ${drift.status}, ledger at ${drift.ledgerAt ?? '(none)'}):`,
  );
  const lines = [
    ...drift.difference.missing.map((item) => `  ${out.red('missing')}  ${item}`),
    ...drift.difference.extra.map((item) => `  ${out.yellow('extra')}    ${item}`),
    ...drift.difference.changed.map(
      (c) => `  ${out.yellow('changed')}  ${c.item}\n             expected: ${c.expected}\n             found:    ${c.actual}`,
    ),
  ];
  for (const line of lines.slice(0, SHOWN_ITEMS)) out.line(line);
  if (lines.length > SHOWN_ITEMS) out.line(out.dim(`  … and ${lines.length - SHOWN_ITEMS} more difference(s) (use --json for all)`));
}

export function printVerifyReport(out: Output, report: VerifyReport): void {
  for (const drift of report.drifted.slice(0, SHOWN_TENANTS)) printDrift(out, drift);
  if (report.drifted.length > SHOWN_TENANTS)
    out.line(out.dim(`… and ${report.drifted.length - SHOWN_TENANTS} more drifted tenant(s) (use --json for all)`));
  for (const r of report.regions) {
    out.line(
      out.dim(
        `  ${r.region} (${r.database}): ${r.tenants} tenant(s), ${r.references} reference(s), ${r.drifted} drifted; catalog query ${r.catalogQueryMs} ms, ${(r.durationMs / 1000).toFixed(2)} s in all`,
      ),
    );
  }
  const seconds = (report.durationMs / 1000).toFixed(2);
  if (report.ok) out.line(`${out.green('✓')} verify: all ${report.tenants} tenant(s) match their ledger (${seconds} s)`);
  else
    out.line(
      `${out.red('✗')} verify: ${report.drifted.length} of ${report.tenants} tenant(s) drifted from their ledger (${seconds} s). Repair the schema by hand or restore it; \`fleet verify --tenant ID\` checks one again.`,
    );
}
