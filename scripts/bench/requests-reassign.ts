/**
 * What moving a warm connection from one tenant to another would cost, against what the one-login-
 * per-tenant design pays for a cold tenant today: the measurement behind the "reassigning warm
 * logins" design in the requests bench notes (docs/notes, README trade-off). Not part of npm run bench.
 *
 *   node --import tsx scripts/bench/requests-reassign.ts [--units 300] [--tenants 20]
 *
 * On an embedded PostgreSQL in a temp dir (fsync on), roles and schemas of its own:
 * - cold: a new connection as the tenant's own login (SCRAM, 4,096 iterations as today, and 16),
 *   BEGIN; SET LOCAL ROLE; the read; COMMIT; close;
 * - reassign: one gateway login, NOINHERIT, kept connected; per unit the administrator moves its
 *   membership (REVOKE the previous tenant's role, GRANT the next one's: one message, with
 *   synchronous_commit off for that transaction), then BEGIN; SET LOCAL ROLE; the read; COMMIT;
 * - warm: the gateway already a member of the tenant's role: BEGIN; SET LOCAL ROLE; the read; COMMIT.
 * Tenants round-robin, so every cold and reassign unit switches tenant.
 */
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { quoteIdent } from '../../src/db/quote.ts';
import { generatePassword, scramVerifier } from '../../src/access/scram.ts';
import { median, startServer } from './lib.ts';

const { values } = parseArgs({ options: { units: { type: 'string', default: '300' }, tenants: { type: 'string', default: '20' } } });
const UNITS = Number(values.units);
const TENANTS = Number(values.tenants);
const log = (line: string) => process.stderr.write(`${line}\n`);

const server = await startServer(undefined, log);
const admin = new pg.Client({ connectionString: server.adminUrl });
await admin.connect();
const roles = Array.from({ length: TENANTS }, (_, i) => ({ role: `rb_t${i}`, login: `rb_l${i}`, login16: `rb_m${i}`, schema: `rb_s${i}` }));
const password = generatePassword();
try {
  for (const r of roles) {
    await admin.query(`CREATE ROLE ${quoteIdent(r.role)} NOLOGIN`);
    await admin.query(`CREATE SCHEMA ${quoteIdent(r.schema)} AUTHORIZATION ${quoteIdent(r.role)}`);
    await admin.query(
      `CREATE TABLE ${quoteIdent(r.schema)}.issues AS SELECT g AS id, 'issue ' || g AS summary FROM generate_series(1, 20) g`,
    );
    await admin.query(`ALTER TABLE ${quoteIdent(r.schema)}.issues OWNER TO ${quoteIdent(r.role)}`);
    for (const [login, iterations] of [
      [r.login, 4096],
      [r.login16, 16],
    ] as const) {
      const sql = await admin.query<{ sql: string }>(
        `SELECT format('CREATE ROLE %I LOGIN NOINHERIT PASSWORD %L', $1::text, $2::text) AS sql`,
        [login, scramVerifier(password, { iterations })],
      );
      await admin.query(sql.rows[0]!.sql);
      await admin.query(`GRANT ${quoteIdent(r.role)} TO ${quoteIdent(login)}`);
    }
  }
  const gatewaySql = await admin.query<{ sql: string }>(
    `SELECT format('CREATE ROLE %I LOGIN NOINHERIT PASSWORD %L', 'rb_gateway', $1::text) AS sql`,
    [scramVerifier(password)],
  );
  await admin.query(gatewaySql.rows[0]!.sql);
  const urlAs = (user: string) => {
    const u = new URL(server.adminUrl);
    u.username = user;
    u.password = password;
    return u.toString();
  };
  const unit = async (client: pg.Client, r: (typeof roles)[number]) => {
    await client.query(`BEGIN; SET LOCAL ROLE ${quoteIdent(r.role)}; SET LOCAL search_path TO ${quoteIdent(r.schema)}`);
    await client.query('SELECT id, summary FROM issues ORDER BY id LIMIT 100');
    await client.query('COMMIT');
  };

  const cold = async (loginOf: (r: (typeof roles)[number]) => string) => {
    const times: number[] = [];
    for (let i = 0; i < UNITS; i += 1) {
      const r = roles[i % TENANTS]!;
      const started = performance.now();
      const client = new pg.Client({ connectionString: urlAs(loginOf(r)) });
      await client.connect();
      await unit(client, r);
      await client.end();
      times.push(performance.now() - started);
    }
    return median(times);
  };
  const coldMs = await cold((r) => r.login);
  const cold16Ms = await cold((r) => r.login16);

  const gateway = new pg.Client({ connectionString: urlAs('rb_gateway') });
  await gateway.connect();
  let previous: string | undefined;
  const reassignTimes: number[] = [];
  for (let i = 0; i < UNITS; i += 1) {
    const r = roles[i % TENANTS]!;
    const started = performance.now();
    await admin.query(
      `BEGIN; SET LOCAL synchronous_commit = off; ${previous ? `REVOKE ${quoteIdent(previous)} FROM rb_gateway; ` : ''}GRANT ${quoteIdent(r.role)} TO rb_gateway; COMMIT`,
    );
    await unit(gateway, r);
    reassignTimes.push(performance.now() - started);
    previous = r.role;
  }
  const warmTimes: number[] = [];
  const last = roles[(UNITS - 1) % TENANTS]!;
  for (let i = 0; i < UNITS; i += 1) {
    const started = performance.now();
    await unit(gateway, last);
    warmTimes.push(performance.now() - started);
  }
  // The gateway must not keep a way into the tenant it served before: SET ROLE to it now fails.
  const other = roles.find((r) => r.role !== previous)!;
  const refused = await gateway.query(`SET ROLE ${quoteIdent(other.role)}`).then(
    () => false,
    () => true,
  );
  await gateway.end();
  console.log(
    JSON.stringify(
      {
        server: server.version,
        units: UNITS,
        tenants: TENANTS,
        coldMs,
        cold16IterationsMs: cold16Ms,
        reassignMs: median(reassignTimes),
        warmMs: median(warmTimes),
        previousTenantRefused: refused,
      },
      null,
      2,
    ),
  );
} finally {
  await admin.end();
  await server.release();
}
