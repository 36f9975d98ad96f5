import type { Command } from 'commander';
import {
  parseTtl,
  formatDuration,
  grantSupport,
  listSupportGrants,
  revokeSupportGrant,
  sweepSupportGrants,
  type SupportGrant,
} from '../../src/access/index.ts';
import type { Output } from '../cli/output.ts';
import { EXIT, runCommand, withFleet, type GlobalOptions } from '../cli/run-command.ts';

/** `fleet support grant|list|revoke|sweep`: time-boxed, ticket-bound, read-only access to one tenant. */
export function registerSupportCommand(program: Command): void {
  const support = program
    .command('support')
    .description('time-boxed, read-only support access to one tenant, bound to a ticket')
    .addHelpText('after', '\nConnects as databaseUsers.support of the fleet description (IAM).');

  support
    .command('grant')
    .description("a read-only role on one tenant's schema, bound to a ticket, expiring after --ttl (at most 8h)")
    .argument('<tenant>', 'the tenant id')
    .requiredOption('--ticket <ref>', 'the support ticket this access serves (e.g. SUP-1234)')
    .requiredOption('--ttl <duration>', 'how long: 30m, 2h, 1h30m; at most 8h')
    .option('--to <dbuser>', "grant the role to this database user (a staff member's login) instead of a login of its own")
    .option('--json', 'the grant as JSON (with the login, password included, when there is no --to)')
    .addHelpText(
      'after',
      `
Examples:
  $ fleet support grant acme --ticket SUP-1234 --ttl 2h
  $ fleet support grant acme --ticket SUP-1234 --ttl 30m --to alice    # alice then: SET ROLE <role>

Without --to the role logs in by itself: its password is printed once and stored nowhere; it is
valid until the expiry. Every grant is an audit event (support.granted) naming the ticket.`,
    )
    .action(async (tenant: string, flags: { ticket: string; ttl: string; to?: string; json?: boolean }, command: Command) => {
      const globals = command.optsWithGlobals<GlobalOptions>();
      await runCommand(Boolean(flags.json), async (out) => {
        const ttlMs = parseTtl(flags.ttl);
        return withFleet(globals, { concurrency: 1, role: 'support' }, async (fleet) => {
          const { grant, login } = await grantSupport(fleet, {
            tenantId: tenant,
            ticket: flags.ticket,
            ttlMs,
            ...(flags.to !== undefined ? { to: flags.to } : {}),
          });
          if (out.json) {
            out.printJson({ command: 'support grant', ok: true, grant, ...(login ? { login } : {}) });
            return EXIT.ok;
          }
          out.line(
            `Granted ${out.bold(grant.id)}: read-only access to tenant ${grant.tenant} (schema ${grant.schema}) for ticket ${grant.ticket}, until ${grant.expiresAt.toISOString()} (${formatDuration(ttlMs)}).`,
          );
          if (login) {
            out.line(`Log in as ${login.user} (the password is shown this once, stored nowhere):`);
            out.line(`  psql '${login.url}'`);
          } else {
            out.line(`${grant.grantedTo} may now run: SET ROLE "${grant.role}";`);
          }
          out.line(out.dim(`Revoke early with: fleet support revoke ${grant.id}`));
          return EXIT.ok;
        });
      });
    });

  support
    .command('list')
    .description('open support grants (active, or expired and not yet swept); --all includes revoked ones')
    .option('--all', 'include revoked grants')
    .option('--tenant <id>', 'only this tenant')
    .option('--json', 'a JSON array of grants')
    .addHelpText(
      'after',
      `
Examples:
  $ fleet support list
  $ fleet support list --all --json | jq '.[] | select(.ticket == "SUP-1234")'`,
    )
    .action(async (flags: { all?: boolean; tenant?: string; json?: boolean }, command: Command) => {
      const globals = command.optsWithGlobals<GlobalOptions>();
      await runCommand(Boolean(flags.json), (out) =>
        withFleet(globals, { concurrency: 1, role: 'support' }, async (fleet) => {
          const grants = await listSupportGrants(fleet, {
            all: Boolean(flags.all),
            ...(flags.tenant !== undefined ? { tenantId: flags.tenant } : {}),
          });
          if (out.json) out.printJson(grants);
          else {
            for (const g of grants) printGrant(out, g);
            out.error(out.dim(`${grants.length} grant(s)`));
          }
          return EXIT.ok;
        }),
      );
    });

  support
    .command('revoke')
    .description('revoke a support grant now: its sessions end, its role goes')
    .argument('<grant-id>', 'as printed by fleet support list, e.g. eu-12')
    .option('--json', 'the revoked grant as JSON')
    .addHelpText(
      'after',
      `
Example:
  $ fleet support revoke eu-12`,
    )
    .action(async (id: string, flags: { json?: boolean }, command: Command) => {
      const globals = command.optsWithGlobals<GlobalOptions>();
      await runCommand(Boolean(flags.json), (out) =>
        withFleet(globals, { concurrency: 1, role: 'support' }, async (fleet) => {
          const { grant, changed } = await revokeSupportGrant(fleet, id);
          if (out.json) out.printJson({ command: 'support revoke', ok: true, changed, grant });
          else
            out.line(
              changed
                ? `Revoked ${grant.id} (ticket ${grant.ticket}, tenant ${grant.tenant}).`
                : `${grant.id} was already revoked (${grant.revokeReason}, ${grant.revokedAt?.toISOString()}).`,
            );
          return EXIT.ok;
        }),
      );
    });

  support
    .command('sweep')
    .description('revoke every expired support grant (safe to run every minute)')
    .option('--json', 'the grants revoked, as JSON')
    .addHelpText(
      'after',
      `
Examples:
  $ fleet support sweep
  * * * * *  cd /srv/fleet && npx fleet support sweep --json >> sweep.log   # cron, every minute`,
    )
    .action(async (flags: { json?: boolean }, command: Command) => {
      const globals = command.optsWithGlobals<GlobalOptions>();
      await runCommand(Boolean(flags.json), (out) =>
        withFleet(globals, { concurrency: 1, role: 'support' }, async (fleet) => {
          const { revoked } = await sweepSupportGrants(fleet);
          if (out.json) out.printJson({ command: 'support sweep', ok: true, revoked });
          else {
            for (const g of revoked)
              out.line(`Revoked expired ${g.id} (ticket ${g.ticket}, tenant ${g.tenant}, expired ${g.expiresAt.toISOString()}).`);
            out.error(out.dim(`${revoked.length} expired grant(s) revoked`));
          }
          return EXIT.ok;
        }),
      );
    });
}

function printGrant(out: Output, g: SupportGrant): void {
  const state = g.state === 'active' ? out.green(g.state) : g.state === 'expired' ? out.yellow(g.state) : out.dim(g.state);
  out.line(
    `${g.id}\t${state}\t${g.tenant}\tticket ${g.ticket}\t${g.grantedTo ? `to ${g.grantedTo}` : `login ${g.role}`}\tby ${g.grantedBy}\tuntil ${g.expiresAt.toISOString()}`,
  );
}
