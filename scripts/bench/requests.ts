/**
 * `npm run bench -- --cases requests`: the example add-on server's read route under load.
 *
 * 1,000 Connect tenants (migrated, 20 issues each, their sharedSecrets sealed in the registry),
 * requested with Zipf(s = 1) popularity by autocannon over 50 connections, against:
 * - ours: GET /connect/api/issues on examples/addon-server (the request guard verifies the Connect
 *   JWT and its qsh, then withTenant runs the read as the tenant's own login);
 * - the insecure baseline: the same Fastify route and query on one shared superuser pool, the
 *   tenant named by an unauthenticated header.
 * Both servers run in one child process (requests-server.ts), the load generator in this one; the
 * two are measured alternately in the same run (baseline, ours, baseline, ours) and the median
 * of each kept, after one request per tenant (every tenant made contact within the minute, as in
 * a running fleet) and a warm-up. Then the guard's own cost: verifyConnect on warm tenants, timed call by call in
 * this process. Targets: ours >= 50% of the baseline's requests/s, p99 < 25 ms, guard < 0.1 ms.
 *
 * Env: REQUESTS_BENCH_SECONDS (per measured run, default 8), REQUESTS_BENCH_TENANTS (1000),
 * REQUESTS_BENCH_CONNECTIONS (50), REQUESTS_BENCH_TENANT_CONNECTIONS (withTenant's
 * maxConnections, default 90), REQUESTS_BENCH_BASELINE_POOL (default the same),
 * REQUESTS_BENCH_LOGINS (withTenant's logins: 'gateway', the default here, or 'tenant').
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { performance } from 'node:perf_hooks';
import { SignJWT } from 'jose';
import { PACKAGE_ROOT, loadFleetConfig } from '../../src/config/load.ts';
import { openFleet, type Fleet } from '../../src/fleet.ts';
import { addTenants } from '../../src/provisioning/add-tenants.ts';
import { quoteIdent } from '../../src/db/quote.ts';
import { schemaNameFor } from '../../src/tenants/ids.ts';
import { secretBox } from '../../src/atlassian/secret-box.ts';
import { storeConnectCredentials } from '../../src/atlassian/installations.ts';
import { queryStringHash } from '../../src/atlassian/query-string-hash.ts';
import { createRequestGuard } from '../../src/requests/index.ts';
import { openTenantAccess } from '../../src/access/with-tenant.ts';
import { createDatabase, databaseUrl, dropDatabaseAndRoles, median } from './lib.ts';

interface AutocannonResult {
  requests: { average: number; total: number };
  latency: { p50: number; p99: number; average: number };
  non2xx: number;
  errors: number;
  timeouts: number;
}
type Autocannon = (options: Record<string, unknown>) => Promise<AutocannonResult>;
const autocannon = createRequire(import.meta.url)('autocannon') as Autocannon;

export interface RequestsRow {
  readonly case: string;
  readonly size: string;
  readonly ours: string;
  readonly baseline: string;
  readonly ratio: string;
  readonly target: string;
  readonly met: boolean | null;
}

const APP_BASE_URL = 'https://addon.bench.test';
const APP_SECRET = 'requests-bench-application-secret-0123456789abcdef';
const PATH = '/connect/api/issues';

/** Zipf(s = 1) over n ranks: rank k (0-based) with probability proportional to 1 / (k + 1). */
export function zipfSampler(n: number, random: () => number = Math.random): () => number {
  const cdf = new Float64Array(n);
  let total = 0;
  for (let k = 0; k < n; k += 1) cdf[k] = total += 1 / (k + 1);
  return () => {
    const u = random() * total;
    let lo = 0;
    let hi = n - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((cdf[mid] as number) < u) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
}

async function provision(fleet: Fleet, ids: readonly string[], log: (line: string) => void): Promise<Map<string, string>> {
  log(`requests: provisioning ${ids.length} tenants`);
  const report = await addTenants(fleet, ids);
  if (!report.migrate.ok) throw new Error('requests bench: provisioning failed');
  const region = fleet.regions[0]!;
  const box = secretBox(APP_SECRET);
  const secrets = new Map<string, string>();
  log('requests: 20 issues per tenant, sharedSecrets sealed');
  for (const [i, id] of ids.entries()) {
    const s = quoteIdent(schemaNameFor(id));
    await region.query(`INSERT INTO ${s}.projects (id, key, name) VALUES (1, 'P', 'project')`);
    await region.query(
      `INSERT INTO ${s}.issues (id, project_id, key, summary, status, created_at, updated_at) SELECT g, 1, 'P-' || g, 'issue ' || g, 'open', now(), now() FROM generate_series(1, 20) g`,
    );
    const secret = `bench-shared-secret-${i}-${'x'.repeat(24)}`;
    await storeConnectCredentials(fleet, box, id, { sharedSecret: secret, baseUrl: `https://site-${i}.atlassian.net` });
    secrets.set(id, secret);
  }
  await region.query('ANALYZE');
  // Every tenant's login gets its credentials at its first connection (a one-time ALTER ROLE); in
  // a running fleet that happened long ago, so it is done here, before anything is measured.
  log('requests: first login of every tenant (sets its credentials; not measured)');
  const access = await openTenantAccess(fleet, { appSecret: APP_SECRET, maxConnections: 8 });
  try {
    let next = 0;
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        while (next < ids.length) {
          const id = ids[next++] as string;
          await access.withTenant(id, (client) => client.query('SELECT 1'), { recordContact: false });
        }
      }),
    );
  } finally {
    await access.close();
  }
  return secrets;
}

function startServers(
  url: string,
  tenantConnections: number,
  baselinePool: number,
): Promise<{ child: ChildProcess; guarded: number; baseline: number }> {
  // REQUESTS_BENCH_PROFILE=<dir>: a CPU profile of the servers' process, written there on exit.
  const profile = process.env.REQUESTS_BENCH_PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${process.env.REQUESTS_BENCH_PROFILE}`] : [];
  const child = spawn(process.execPath, [...profile, '--import', 'tsx', 'scripts/bench/requests-server.ts'], {
    cwd: PACKAGE_ROOT,
    env: {
      ...process.env,
      FLEET_DATABASE_URL: url,
      FLEET_APP_SECRET: APP_SECRET,
      BENCH_TENANT_CONNECTIONS: String(tenantConnections),
      BENCH_BASELINE_POOL: String(baselinePool),
      BENCH_LOGINS: process.env.REQUESTS_BENCH_LOGINS ?? 'gateway',
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    let buffered = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      buffered += chunk.toString('utf8');
      const line = buffered.split('\n')[0];
      if (buffered.includes('\n') && line) resolve({ child, ...(JSON.parse(line) as { guarded: number; baseline: number }) });
    });
    child.on('exit', (code) => reject(new Error(`the bench servers exited early (${String(code)})`)));
  });
}

export async function caseRequests(options: {
  adminUrl: string;
  log: (line: string) => void;
}): Promise<{ rows: RequestsRow[]; figures: Record<string, unknown> }> {
  const { adminUrl, log } = options;
  const seconds = Number(process.env.REQUESTS_BENCH_SECONDS ?? 8);
  const tenants = Number(process.env.REQUESTS_BENCH_TENANTS ?? 1000);
  const connections = Number(process.env.REQUESTS_BENCH_CONNECTIONS ?? 50);
  const tenantConnections = Number(process.env.REQUESTS_BENCH_TENANT_CONNECTIONS ?? 90);
  const baselinePool = Number(process.env.REQUESTS_BENCH_BASELINE_POOL ?? tenantConnections);
  const db = await createDatabase(adminUrl, 'requests');
  const url = databaseUrl(adminUrl, db);
  const fleet = await openFleet({ config: loadFleetConfig(), env: { FLEET_DATABASE_URL: url, FLEET_REGION: 'local' }, actor: 'bench' });
  let servers: Awaited<ReturnType<typeof startServers>> | undefined;
  try {
    const ids = Array.from({ length: tenants }, (_, i) => `site-${String(i).padStart(5, '0')}`);
    const secrets = await provision(fleet, ids, log);
    const now = Math.floor(Date.now() / 1000);
    const qsh = queryStringHash({ method: 'GET', path: PATH }, APP_BASE_URL);
    const tokens = await Promise.all(
      ids.map(
        async (id) =>
          `JWT ${await new SignJWT({ qsh })
            .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
            .setIssuer(id)
            .setIssuedAt(now)
            .setExpirationTime(now + 3600)
            .sign(new TextEncoder().encode(secrets.get(id)))}`,
      ),
    );
    const pick = zipfSampler(tenants);
    servers = await startServers(url, tenantConnections, baselinePool);
    log(
      `requests: servers up (withTenant maxConnections ${tenantConnections}, baseline pool ${baselinePool}); ${connections} connections, ${seconds} s per run`,
    );

    const load = (kind: 'guarded' | 'baseline', duration: number) =>
      autocannon({
        url: `http://127.0.0.1:${kind === 'guarded' ? servers?.guarded : servers?.baseline}${PATH}`,
        connections,
        duration,
        requests: [
          {
            method: 'GET',
            setupRequest: (request: { headers?: Record<string, string> }) => {
              const k = pick();
              request.headers = kind === 'guarded' ? { authorization: tokens[k] as string } : { 'x-tenant': ids[k] as string };
              return request;
            },
          },
        ],
      });
    // A running fleet's steady state: every tenant made contact in the last minute (the guard
    // holds its key, its contact is recorded), as each does at most once a minute. Without this,
    // each tenant's first request (a registry read and a contact write on the control connection)
    // would land inside the short measured runs.
    log(`requests: one request per tenant (the guard's cache and contact, not measured)`);
    for (let i = 0; i < ids.length; i += 50) {
      await Promise.all(
        ids.slice(i, i + 50).map(async (_, j) => {
          const response = await fetch(`http://127.0.0.1:${servers?.guarded}${PATH}`, {
            headers: { authorization: tokens[i + j] as string },
          });
          await response.arrayBuffer();
          if (!response.ok) throw new Error(`requests bench: tenant ${ids[i + j]} got ${response.status}`);
        }),
      );
    }
    log('requests: warm-up (3 s each)');
    await load('baseline', 3);
    await load('guarded', 3);
    const runs: { guarded: AutocannonResult[]; baseline: AutocannonResult[] } = { guarded: [], baseline: [] };
    for (let r = 0; r < 2; r += 1) {
      for (const kind of ['baseline', 'guarded'] as const) {
        const result = await load(kind, seconds);
        runs[kind].push(result);
        log(
          `requests: ${kind} ${result.requests.average.toFixed(0)} req/s, p50 ${result.latency.p50} ms, p99 ${result.latency.p99} ms, non-2xx ${result.non2xx}, errors ${result.errors}`,
        );
      }
    }

    // The guard alone, in this process: warm tenants (secret cached), Zipf-chosen, call by call.
    const guard = createRequestGuard(fleet, { connect: { appBaseUrl: APP_BASE_URL }, appSecret: APP_SECRET, cacheTtlMs: 3_600_000 });
    for (const [k, id] of ids.entries()) {
      const result = await guard.verifyConnect({ method: 'GET', path: PATH, query: '', authorization: tokens[k] });
      if (!result.ok) throw new Error(`requests bench: the guard refused ${id}: ${result.code}`);
    }
    const costs: number[] = [];
    for (let i = 0; i < 20_000; i += 1) {
      const k = pick();
      const started = performance.now();
      await guard.verifyConnect({ method: 'GET', path: PATH, query: '', authorization: tokens[k] });
      costs.push(performance.now() - started);
    }
    costs.sort((a, b) => a - b);
    const guardP50 = median(costs);
    const guardP99 = costs[Math.floor(costs.length * 0.99)] as number;

    const med = (list: AutocannonResult[], f: (r: AutocannonResult) => number) => median(list.map(f));
    const ours = {
      rps: med(runs.guarded, (r) => r.requests.average),
      p50: med(runs.guarded, (r) => r.latency.p50),
      p99: med(runs.guarded, (r) => r.latency.p99),
      non2xx: runs.guarded.reduce((n, r) => n + r.non2xx + r.errors, 0),
    };
    const base = {
      rps: med(runs.baseline, (r) => r.requests.average),
      p50: med(runs.baseline, (r) => r.latency.p50),
      p99: med(runs.baseline, (r) => r.latency.p99),
      non2xx: runs.baseline.reduce((n, r) => n + r.non2xx + r.errors, 0),
    };
    const size = `${tenants.toLocaleString('en-US')}, Zipf s=1, ${connections} conn`;
    const rows: RequestsRow[] = [
      {
        case: `requests: read route req/s, guarded + withTenant (${process.env.REQUESTS_BENCH_LOGINS ?? 'gateway'} logins, maxConnections ${tenantConnections}) vs insecure shared pool (${baselinePool}); non-2xx ours ${ours.non2xx}, baseline ${base.non2xx}`,
        size,
        ours: `${ours.rps.toFixed(0)} req/s`,
        baseline: `${base.rps.toFixed(0)} req/s`,
        ratio: `${(ours.rps / base.rps).toFixed(2)}x`,
        target: '≥ 0.50x',
        met: ours.rps >= 0.5 * base.rps && ours.non2xx === 0,
      },
      {
        case: 'requests: latency p50 / p99',
        size,
        ours: `${ours.p50} / ${ours.p99} ms`,
        baseline: `${base.p50} / ${base.p99} ms`,
        ratio: '',
        target: 'p99 < 25 ms',
        met: ours.p99 < 25,
      },
      {
        case: `requests: the guard's own cost per request, warm tenant (median; p99 ${(guardP99 * 1000).toFixed(0)} µs)`,
        size: tenants.toLocaleString('en-US'),
        ours: `${(guardP50 * 1000).toFixed(0)} µs`,
        baseline: '',
        ratio: '',
        target: '< 100 µs',
        met: guardP50 < 0.1,
      },
    ];
    return { rows, figures: { runs, guard: { p50Ms: guardP50, p99Ms: guardP99 }, tenantConnections, baselinePool, connections, seconds } };
  } finally {
    if (servers) {
      const child = servers.child;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    }
    await fleet.close();
    await dropDatabaseAndRoles(adminUrl, db).catch(() => undefined);
  }
}
