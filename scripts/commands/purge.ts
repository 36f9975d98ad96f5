import type { Command } from 'commander';
import { purgeFleet, type PurgeEvent, type PurgeReport, purgeEvidence, type PurgeEvidence } from '../../src/purge/index.ts';
import type { RunEvent } from '../../src/index.ts';
import { progressFor, type Output } from '../cli/output.ts';
import { collect, isoDate, nonNegativeInt, readIdFile } from '../cli/parse.ts';
import { EXIT, runCommand, withFleet, type GlobalOptions } from '../cli/run-command.ts';

interface PurgeFlags {
  now?: Date;
  region?: string[];
  max?: number;
  execute?: boolean;
  allowMass?: boolean;
  tenant?: string[];
  file?: string;
  embedded?: boolean;
  json?: boolean;
}

export function formatBytes(bytes: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${unit === 0 ? value : value.toFixed(1)} ${units[unit]}`;
}

const day = (iso: string | null) => (iso ? iso.slice(0, 10) : '-');

/** The header line naming where the command acted: an on-call engineer must never wonder which database. */
export function printDatabases(out: Output, databases: readonly { region: string; database: string }[]): void {
  for (const d of databases) out.line(`  database ${out.bold(d.region)}: ${d.database}`);
}

function printDueSummary(out: Output, report: PurgeReport): void {
  if (report.due.length === 0) return;
  const list = (record: Readonly<Record<string, number>>) =>
    Object.entries(record)
      .map(([k, n]) => `${k} ${n}`)
      .join(', ');
  out.line(`  by cause: ${list(report.dueSummary.byCause)}`);
  out.line(`  by day disconnected: ${list(report.dueSummary.byDate)}`);
}

function printAsidePlan(out: Output, report: PurgeReport): void {
  if (report.aside.length === 0) return;
  out.line(`  ${report.aside.length} aside schema(s) past their drop date (a restore's replaced schemas; outside the brake):`);
  for (const a of report.aside.slice(0, 200))
    out.line(
      `  ${a.region}/${a.tenant}  aside schema ${a.schema}, ${a.tables} table(s), ~${formatBytes(a.approxBytes)}; set aside ${day(a.setAsideAt)}, drop after ${day(a.dropAfter)}`,
    );
  if (report.aside.length > 200) out.line(out.dim(`  … and ${report.aside.length - 200} more (use --json for all)`));
}

function printPlan(out: Output, report: PurgeReport): void {
  printAsidePlan(out, report);
  printDueSummary(out, report);
  for (const r of report.regions) out.line(`  ${out.bold(r.region)}: ${r.due} due of ${r.nonPurged} tenant(s) not purged`);
  for (const d of report.due.slice(0, 200)) {
    out.line(
      `  ${d.region}/${d.tenant}  schema ${d.schema}${d.asideSchemas.length > 0 ? ` (and aside ${d.asideSchemas.join(', ')})` : ''}, ${d.tables} table(s), ~${formatBytes(d.approxBytes)}; disconnected ${day(d.disconnectedAt)} (${d.disconnectCause ?? '?'}), purge after ${day(d.purgeAfter)}; last backup holding it expires ${day(d.backupExpiresAt)}`,
    );
  }
  if (report.due.length > 200) out.line(out.dim(`  … and ${report.due.length - 200} more (use --json for all)`));
}

function printBrake(out: Output, report: PurgeReport): void {
  if (!report.brake.tripped) {
    out.line(`The brake: within limits (${report.brake.limits.map((l) => l.message).join('; ')}).`);
    return;
  }
  out.line(out.yellow(`The brake: ${report.allowMass ? 'overridden with --allow-mass' : 'an --execute would be refused'}:`));
  for (const l of report.brake.limits.filter((x) => x.exceeded)) out.line(out.yellow(`  ${l.message}`));
}

function printReport(out: Output, report: PurgeReport): void {
  if (report.dryRun) {
    out.line(
      out.bold(
        `Dry run at ${report.now}: ${report.due.length} tenant(s) due for purge (~${formatBytes(report.summary.approxBytes)})${report.aside.length > 0 ? `, ${report.aside.length} aside schema(s) due to be dropped` : ''}; nothing was changed.`,
      ),
    );
    printDatabases(out, report.databases);
    printPlan(out, report);
    printBrake(out, report);
    for (const n of report.notDue) out.line(out.yellow(`  not due, not purged: ${n.tenant} (${n.reason})`));
    if (report.due.length > 0 || report.aside.length > 0)
      out.line(
        `To purge them: fleet purge --execute${report.brake.tripped ? ' --allow-mass   (only once you know why this many are due)' : ''}`,
      );
    return;
  }
  const s = report.summary;
  const mark = report.ok ? out.green('✓') : out.red('✗');
  out.line(
    `${mark} purge: ${s.purged} tenant(s) purged (~${formatBytes(s.approxBytes)}), ${s.skipped} skipped (${s.busy} busy, ${s.interrupted} not started: interrupted), ${s.failed} failed, of ${s.due} due; ${s.asideDropped} of ${s.asideDue} due aside schema(s) dropped; in ${(report.durationMs / 1000).toFixed(2)} s`,
  );
  printDatabases(out, report.databases);
  for (const n of report.notDue) out.line(out.yellow(`  not due, not purged: ${n.tenant} (${n.reason})`));
  if (s.interrupted > 0) out.line(out.red(`  interrupted: ${s.interrupted} due tenant(s) not started; run the purge again.`));
  if (report.brake.tripped)
    out.line(
      out.yellow(
        `  the brake was overridden with --allow-mass: ${report.brake.limits
          .filter((l) => l.exceeded)
          .map((l) => l.message)
          .join('; ')}`,
      ),
    );
  for (const a of report.asideResults.slice(0, 200)) {
    if (a.status === 'dropped')
      out.line(`  dropped aside schema ${a.region}/${a.schema} of ${a.tenant} (${a.tables} table(s), ~${formatBytes(a.approxBytes ?? 0)})`);
    else if (a.status === 'skipped') out.line(out.dim(`  skipped aside schema ${a.region}/${a.schema}: ${a.reason}`));
    else
      out.line(
        `  ${out.red('failed')}  aside schema ${a.region}/${a.schema}: ${a.error?.message}${a.error?.code ? ` [SQLSTATE ${a.error.code}]` : ''}`,
      );
  }
  for (const r of report.results.slice(0, 200)) {
    if (r.status === 'purged')
      out.line(
        `  purged  ${r.region}/${r.tenant} (schema ${r.schema}, ${r.tables} table(s), ~${formatBytes(r.approxBytes ?? 0)}${r.asideDropped && r.asideDropped.length > 0 ? `; aside schema(s) ${r.asideDropped.join(', ')}` : ''}); last backup holding it expires ${day(r.backupExpiresAt ?? null)}`,
      );
    else if (r.status === 'skipped') out.line(out.dim(`  skipped ${r.region}/${r.tenant}: ${r.reason}`));
    else
      out.line(`  ${out.red('failed')}  ${r.region}/${r.tenant}: ${r.error?.message}${r.error?.code ? ` [SQLSTATE ${r.error.code}]` : ''}`);
  }
  if (report.results.length > 200) out.line(out.dim(`  … and ${report.results.length - 200} more (use --json for all)`));
  if (s.failed > 0) out.line(out.dim('  A failed tenant is untouched (its transaction rolled back); run the purge again.'));
  const busy = report.results.filter((r) => r.busy === true);
  if (busy.length > 0)
    out.line(
      out.red(
        `  ${busy.length} due tenant(s) were held by a runner and not purged: ${busy.map((r) => `${r.region}/${r.tenant}`).join(', ')}; run the purge again.`,
      ),
    );
}

function printEvidence(out: Output, evidence: PurgeEvidence): void {
  out.line(
    out.bold(
      `Purges${evidence.since ? ` since ${evidence.since}` : ''}: ${evidence.summary.purges} (report generated ${evidence.generatedAt})`,
    ),
  );
  out.line(`  ${evidence.summary.backupsStillHolding} purge(s) still present in backups that have not expired yet.`);
  for (const p of evidence.purges) {
    out.line(
      `  ${p.region}/${p.tenant}  schema ${p.schema}: disconnected ${p.disconnectedAt ?? '?'} (${p.disconnectCause ?? '?'}), purge after ${p.purgeAfter}, purged ${p.purgedAt} by ${p.actor}; ${p.tables} table(s), ~${formatBytes(p.approxBytes)}; last backup ${p.backupsExpired ? 'expired' : 'expires'} ${p.backupExpiresAt}; schema ${p.schemaGone ? 'gone' : 'present again'} (now ${p.currentStatus ?? 'unregistered'})`,
    );
  }
}

function asRunEvent(event: PurgeEvent): RunEvent {
  if (event.type === 'start') return { type: 'start', phase: 'rollout', tenants: event.tenants };
  const r = event.result;
  return {
    type: 'tenant',
    result: {
      tenant: r.tenant,
      region: r.region,
      schema: r.schema,
      status: r.status === 'purged' ? 'applied' : r.status,
      migrations: [],
      durationMs: r.durationMs,
    },
  };
}

export function registerPurgeCommand(program: Command): void {
  const purge = program
    .command('purge')
    .description(
      'delete the data of tenants disconnected for the whole grace period, and the schemas restores set aside once their drop date has passed (a dry run unless --execute)',
    )
    .option('--now <iso>', 'judge "due" at this time (a preview; with --execute it may not be later than now)', isoDate('--now'))
    .option('--region <name>', 'only this region (repeatable)', collect)
    .option('--tenant <id...>', 'only these tenants, and only if due (a listed tenant not due is reported, not purged)')
    .option('--file <path>', 'only the tenants listed in this file, one per line (# comments allowed)')
    .option('--max <n>', 'refuse to execute when more than n tenants are due in this run', nonNegativeInt('--max'))
    .option('--execute', "drop the due tenants' schemas and the due aside schemas (each in its own transaction, re-checked under its lock)")
    .option('--allow-mass', 'execute even when the brake is tripped (more than lifecycle.purgeMaxShare of a region, or --max)')
    .option(
      '--embedded',
      'allow --execute against the embedded PostgreSQL under FLEET_HOME (default ./.fleet) (refused otherwise: no database configured is a mistake)',
    )
    .option('--json', 'one JSON document: due tenants, due aside schemas, the brake, per-tenant and per-aside results, summary')
    .addHelpText(
      'after',
      `
Examples:
  $ fleet purge                              # what is due now, and what the brake says
  $ fleet purge --now 2026-12-31T00:00:00Z   # what will be due by then
  $ fleet purge --execute --max 50 --json    # the daily job
  $ fleet purge --execute --allow-mass       # after checking why so many are due
  $ fleet purge --tenant acme globex --execute   # exactly these, if due
  $ fleet purge report --since 2026-01-01    # evidence for an auditor

Due: disconnected, purge_after passed, no legal hold. The brake refuses an --execute that would
purge more than lifecycle.purgeMaxShare (default 10%) of a region's tenants, or more than --max.
A purged tenant's aside schemas (set aside by fleet tenants restore) go with it; any aside schema
past its drop date (the restore plus lifecycle.graceDays) is dropped too, whatever its tenant's
state, outside the brake.
Killed at any point, run it again: each tenant is purged in one transaction, all or nothing.
Connects as databaseUsers.purge of the fleet description (IAM). An --execute with no database
configured (the embedded default) is refused unless --embedded.
Exit codes: 0 done (or a dry run), 1 a tenant failed, the brake refused or the run was interrupted
(then also 130 for Ctrl-C, 143 for SIGTERM), 2 bad usage or configuration.`,
    )
    .action(async (flags: PurgeFlags, command: Command) => {
      const globals = command.optsWithGlobals<GlobalOptions>();
      await runCommand(Boolean(flags.json), (out) => {
        const tenants = [...(flags.tenant ?? []), ...(flags.file ? readIdFile(flags.file) : [])];
        return withFleet(
          globals,
          {
            ...(flags.region ? { regions: flags.region } : {}),
            concurrency: 1,
            role: 'purge',
            ...(flags.execute ? { destructive: { what: 'fleet purge --execute', embedded: Boolean(flags.embedded) } } : {}),
          },
          async (fleet, context) => {
            const progress = progressFor(out, 'purge');
            const report = await purgeFleet(fleet, {
              ...(flags.now ? { now: flags.now } : {}),
              ...(tenants.length > 0 ? { tenants } : {}),
              ...(flags.max !== undefined ? { max: flags.max } : {}),
              execute: Boolean(flags.execute),
              allowMass: Boolean(flags.allowMass),
              signal: context.signal,
              onEvent: (event) => progress.onEvent(asRunEvent(event)),
            });
            progress.stop();
            if (out.json) out.printJson({ command: 'purge', ...report });
            else printReport(out, report);
            return report.ok ? EXIT.ok : EXIT.failed;
          },
        );
      });
    });

  purge
    .command('report')
    .description('evidence for an auditor: every purge with its dates, who ran it, and when the last backup holding it expires')
    .option('--since <iso>', 'only purges at or after this time', isoDate('--since'))
    .option('--region <name>', 'only this region (repeatable)', collect)
    .option('--json', 'JSON: { generatedAt, since, purges: [...], summary }')
    .addHelpText(
      'after',
      `
Examples:
  $ fleet purge report --since 2026-01-01
  $ fleet purge report --json > purge-evidence-2026.json`,
    )
    .action(async (_flags: unknown, command: Command) => {
      // `purge` has --json and --region too, and takes them wherever they appear: read them merged.
      const globals = command.optsWithGlobals<GlobalOptions & { since?: Date; region?: string[]; json?: boolean }>();
      const flags = globals;
      await runCommand(Boolean(flags.json), (out) =>
        withFleet(globals, { ...(flags.region ? { regions: flags.region } : {}), concurrency: 1, role: 'purge' }, async (fleet) => {
          const evidence = await purgeEvidence(fleet, flags.since ? { since: flags.since } : {});
          if (out.json) out.printJson({ command: 'purge report', ok: true, ...evidence });
          else printEvidence(out, evidence);
          return EXIT.ok;
        }),
      );
    });
}
