import pg from 'pg';
import type { RegionDatabase } from '../db/region-database.ts';
import { withClient } from '../db/scoped.ts';
import { FleetError } from '../errors.ts';
import { generatePassword, scramVerifier } from './scram.ts';
import { SQLSTATE } from '../db/sqlstate.ts';

/**
 * Gateway logins (control migration 0012): the connections of withTenant, moved between tenants
 * instead of one login (and one cold connection) per tenant.
 *
 * A gateway `<prefix>_l_gw_<n>` is NOINHERIT, owns nothing, holds no privilege of its own, may
 * connect to this database only, and has exactly ONE connection, held by one process (its
 * backend is the lease holder in fleet.gateways, as for tenant leases). At any moment it is a
 * member of at most one tenant role, the one fleet.gateways maps it to, which is what
 * fleet_access.session_tenant() tells the session. So PostgreSQL's own rule still decides: SET
 * ROLE is checked against the session user, a member of the tenant being served and of nothing
 * else.
 *
 * - claim (a new connection): the administrator picks a gateway no live backend holds (or makes
 *   one), revokes its memberships, resets its own settings (ALTER ROLE ... RESET ALL, in every
 *   database and in this one), ends any session of it, and lets it LOGIN with the SCRAM verifier
 *   of a random password only this process knows; the process connects; the administrator
 *   records the backend as holder and sets NOLOGIN again. A unit of work that changes the
 *   gateway's password or settings (possible after RESET ROLE: a role may alter itself) gains
 *   nothing: nobody can log in as a NOLOGIN role, and the next claim resets both.
 * - move (a tenant without an idle connection of its own takes another tenant's idle one): the
 *   connection is scrubbed with SCRUB_SQL, DISCARD ALL but its DISCARD PLANS (session-level SET ROLE, SET and set_config values,
 *   prepared statements, WITH HOLD cursors, temporary objects, LISTEN, advisory locks, sequence
 *   state), then the administrator revokes the previous tenant's role, grants the next one's and
 *   changes the mapping in one transaction. Only an idle connection is moved; the unit of work that
 *   follows re-reads the tenant through session_tenant() and refuses a mismatch.
 * A failure anywhere closes the connection: a closed connection needs no scrub, and its gateway
 * is reset by whoever claims it next.
 */
export interface Gateway {
  readonly role: string;
  readonly client: pg.Client;
}

/** What claiming needs: the administrator's pool and how to connect as a given role with a given password. */
export interface GatewayDeps {
  readonly region: RegionDatabase;
  readonly auth: 'scram' | 'iam';
  readonly connect: (role: string, password: string | undefined) => Promise<pg.Client>;
}

// The password is 256 random bits used once: PBKDF2 stretching buys nothing against guessing it,
// so the verifier's iteration count is kept low (the client and the server each run it per login).
const GATEWAY_SCRAM_ITERATIONS = 16;

/** A new connection as a gateway no one else holds, member of no tenant yet. */
export async function claimGateway(deps: GatewayDeps): Promise<Gateway> {
  const password = deps.auth === 'scram' ? generatePassword() : undefined;
  const verifier = password !== undefined ? scramVerifier(password, { iterations: GATEWAY_SCRAM_ITERATIONS }) : null;
  const role = await withClient(
    deps.region.controlPool,
    async (admin) => (await admin.query<{ g: string }>('SELECT fleet.claim_gateway($1) AS g', [verifier])).rows[0]?.g as string,
  );
  let client: pg.Client | undefined;
  try {
    client = await deps.connect(role, password);
    await deps.region.query('SELECT fleet.hold_gateway($1, $2)', [role, backendPid(client)]);
    return { role, client };
  } catch (error) {
    await client?.end().catch(() => undefined);
    throw error;
  }
}

/**
 * DISCARD ALL as its manual spells it out, but DISCARD PLANS: cached plans belong to statements
 * (DEALLOCATE ALL drops the prepared ones) and to the functions of fleet_access and of each
 * tenant's schema, whose plans name their own objects and are checked against the role that
 * runs them; dropping them made every move re-plan the next unit's functions (control migration
 * 0013). Run as one simple query: one round trip, one implicit transaction.
 */
export const SCRUB_SQL = [
  'CLOSE ALL',
  'SET SESSION AUTHORIZATION DEFAULT',
  'RESET ALL',
  'DEALLOCATE ALL',
  'UNLISTEN *',
  'SELECT pg_catalog.pg_advisory_unlock_all()',
  'DISCARD TEMP',
  'DISCARD SEQUENCES',
].join('; ');

/** Scrub an idle gateway connection of everything its previous tenant's units left in the session. */
export async function scrubGateway(client: pg.Client): Promise<void> {
  await client.query(SCRUB_SQL);
  // pg remembers which named statements it parsed on this connection; DEALLOCATE ALL dropped them.
  const connection = (
    client as unknown as { connection: { parsedStatements: Record<string, unknown>; submittedNamedStatements?: Record<string, unknown> } }
  ).connection;
  connection.parsedStatements = {};
  if (connection.submittedNamedStatements) connection.submittedNamedStatements = {};
}

export class GatewayTenantNotFound extends Error {}

/** The administrator's connections that move gateways (a pool of their own: moves are on the request path). */
export interface Queryable {
  query(text: string, values: unknown[]): Promise<unknown>;
}

/**
 * Move a scrubbed, idle gateway connection to a tenant (its role `tenantRole`). Throws
 * GatewayTenantNotFound (nothing changed) for an unregistered tenant.
 */
export async function moveGateway(admin: Queryable, gateway: Gateway, tenantId: string, tenantRole: string): Promise<void> {
  try {
    await admin.query('SELECT fleet.move_gateway($1, $2, $3, $4)', [gateway.role, backendPid(gateway.client), tenantId, tenantRole]);
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code === SQLSTATE.NO_DATA_FOUND) throw new GatewayTenantNotFound();
    if (code === SQLSTATE.UNDEFINED_OBJECT || code === SQLSTATE.INVALID_PARAMETER_VALUE) {
      throw new FleetError(
        'REFUSED',
        `tenant ${JSON.stringify(tenantId)} has no role ${JSON.stringify(tenantRole)} to grant its gateway connection. Opening the access again (any fleet sql) restores the roles of registered tenants.`,
      );
    }
    throw error;
  }
}

/** The server process of a connection (pg has it from BackendKeyData; its types do not list it). */
function backendPid(client: pg.Client): number {
  return (client as unknown as { processID: number }).processID;
}
