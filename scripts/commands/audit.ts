import type { Command } from 'commander';
import { AUDIT_DEFAULT_LIMIT, queryAudit, type AuditRecord } from '../../src/index.ts';
import type { Output } from '../cli/output.ts';
import { isoDate, positiveInt } from '../cli/parse.ts';
import { EXIT, runCommand, withFleet, type GlobalOptions } from '../cli/run-command.ts';

export function printAuditEvent(out: Output, e: AuditRecord, indent = ''): void {
  const move = e.fromState || e.toState ? ` (${e.fromState ?? '-'} → ${e.toState ?? '-'})` : '';
  out.line(
    `${indent}${e.at}  ${e.region}/${e.tenant ?? '-'}  ${out.bold(e.action)}${move} by ${e.actor}${e.reason ? `: ${e.reason}` : ''}`,
  );
}

/** `fleet audit`: the audit trail, filtered; read-only. */
export function registerAuditCommand(program: Command): void {
  program
    .command('audit')
    .description('the audit trail of every region, newest first: who did what to which tenant, when and why')
    .option('--tenant <id>', 'only this tenant')
    .option('--action <action>', 'only this action (e.g. uninstalled, stale, purged, held, support.granted)')
    .option('--since <iso>', 'only events at or after this time', isoDate('--since'))
    .option('--limit <n>', `at most n events (default ${AUDIT_DEFAULT_LIMIT})`, positiveInt('--limit', 10_000))
    .option(
      '--json',
      'a JSON document: { command, ok, events: [{ region, id, at, tenant, action, fromState, toState, reason, actor, details }] }',
    )
    .addHelpText(
      'after',
      `
Examples:
  $ fleet audit --tenant acme
  $ fleet audit --action stale --since 2026-11-01 --json | jq -r '.events[].tenant'`,
    )
    .action(async (flags: { tenant?: string; action?: string; since?: Date; limit?: number; json?: boolean }, command: Command) => {
      const globals = command.optsWithGlobals<GlobalOptions>();
      await runCommand(Boolean(flags.json), (out) =>
        withFleet(globals, { concurrency: 1 }, async (fleet) => {
          const events = await queryAudit(fleet, {
            ...(flags.tenant !== undefined ? { tenant: flags.tenant } : {}),
            ...(flags.action !== undefined ? { action: flags.action } : {}),
            ...(flags.since ? { since: flags.since } : {}),
            ...(flags.limit !== undefined ? { limit: flags.limit } : {}),
          });
          if (out.json) out.printJson({ command: 'audit', ok: true, events });
          else {
            for (const e of events) printAuditEvent(out, e);
            out.error(out.dim(`${events.length} event(s)`));
          }
          return EXIT.ok;
        }),
      );
    });
}
