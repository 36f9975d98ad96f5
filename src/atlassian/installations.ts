import type { Fleet } from '../fleet.ts';
import type { RegionDatabase } from '../db/region-database.ts';
import { FleetError } from '../errors.ts';
import { resolveSessionAuth } from '../access/session-login.ts';
import { assertTenantId } from '../tenants/ids.ts';
import type { TenantStatus } from '../tenants/tenant-row.ts';
import { secretBox, type SecretBox } from './secret-box.ts';

/**
 * What authenticates a tenant's requests, in fleet.installations (control migration 0007): a Connect
 * tenant's sealed sharedSecret and baseUrl, a Forge tenant's current installationId. Written only by
 * the verified lifecycle paths (connect-callback.ts, forge-lifecycle.ts); read by the request guard.
 */
export type InstallationKind = 'connect' | 'forge';

export interface ConnectCredentials {
  readonly sharedSecret: string;
  readonly baseUrl: string;
}

export interface AppSecretOptions {
  /** FLEET_APP_SECRET (in AWS: from Secrets Manager). Default: the secret the tenants' session passwords come from (the credentials file). */
  readonly appSecret?: string;
  readonly credentialsDir?: string;
}

/**
 * The box that seals Connect credentials. The application secret is the one withTenant derives
 * session passwords from: the `appSecret` given, else the generated credentials file of the first
 * region that uses passwords. A fleet on IAM authentication (AWS) has no such file: pass appSecret.
 */
export async function openSecretBox(fleet: Fleet, options: AppSecretOptions = {}): Promise<SecretBox> {
  if (options.appSecret !== undefined) return secretBox(options.appSecret);
  for (const region of fleet.regions) {
    const auth = await resolveSessionAuth(region, {
      clock: fleet.clock,
      ...(options.credentialsDir !== undefined ? { credentialsDir: options.credentialsDir } : {}),
    });
    if (auth.kind === 'scram') return secretBox(auth.secret);
  }
  throw new FleetError(
    'CONFIG_INVALID',
    'no application secret to seal tenant credentials with: this fleet uses IAM database authentication, so pass appSecret (FLEET_APP_SECRET, read from AWS Secrets Manager at start)',
  );
}

export interface InstallationRow {
  readonly status: TenantStatus;
  readonly disconnect_cause: string | null;
  readonly kind: InstallationKind | null;
  readonly installation_id: string | null;
  readonly secret_box: Buffer | null;
  readonly secret_key_id: string | null;
}

/**
 * The tenant's status and installation, as the administrator (registry data, not tenant data);
 * undefined when no region has the id. During a move two regions register the tenant: the row
 * that serves it (active) is the answer, else the one holding its installation (the source until
 * the switch, which carries the installation to the target), else any.
 */
export async function readInstallation(
  fleet: Fleet,
  tenantId: string,
  regions: readonly RegionDatabase[] = fleet.regions,
): Promise<{ region: RegionDatabase; row: InstallationRow } | undefined> {
  const found = await Promise.all(
    regions.map(async (region) => {
      const { rows } = await region.query<InstallationRow>(
        `SELECT t.status, t.disconnect_cause, i.kind, i.installation_id, i.secret_box, i.secret_key_id
           FROM fleet.tenants t LEFT JOIN fleet.installations i ON i.tenant_id = t.id
          WHERE t.id = $1`,
        [tenantId],
      );
      return rows[0] ? { region, row: rows[0] } : undefined;
    }),
  );
  const hits = found.filter((f): f is { region: RegionDatabase; row: InstallationRow } => f !== undefined);
  return hits.find((h) => h.row.status === 'active') ?? hits.find((h) => h.row.kind !== null) ?? hits[0];
}

async function upsert(
  fleet: Fleet,
  tenantId: string,
  values: { kind: InstallationKind; installationId: string | null; box: Buffer | null; keyId: string | null },
): Promise<void> {
  assertTenantId(tenantId);
  const found = await readInstallation(fleet, tenantId);
  if (!found)
    throw new FleetError(
      'INPUT_INVALID',
      `tenant ${JSON.stringify(tenantId)} is not registered: install it before recording its installation`,
    );
  const now = fleet.clock.now();
  await found.region.query(
    `INSERT INTO fleet.installations (tenant_id, kind, installation_id, secret_box, secret_key_id, installed_at, updated_at)
     VALUES ($1, $2, $3, $4, $5, $6, $6)
     ON CONFLICT (tenant_id) DO UPDATE SET kind = EXCLUDED.kind, installation_id = EXCLUDED.installation_id,
       secret_box = EXCLUDED.secret_box, secret_key_id = EXCLUDED.secret_key_id, updated_at = EXCLUDED.updated_at`,
    [tenantId, values.kind, values.installationId, values.box, values.keyId, now],
  );
}

/** After a verified signed install: seal and store (replacing) the tenant's sharedSecret and baseUrl. */
export async function storeConnectCredentials(
  fleet: Fleet,
  box: SecretBox,
  tenantId: string,
  credentials: ConnectCredentials,
): Promise<void> {
  const sealed = box.seal(tenantId, JSON.stringify({ sharedSecret: credentials.sharedSecret, baseUrl: credentials.baseUrl }));
  await upsert(fleet, tenantId, { kind: 'connect', installationId: null, box: sealed, keyId: box.keyId });
}

/** After a verified Forge `installed` event: the tenant's current installationId. */
export async function recordForgeInstallation(fleet: Fleet, tenantId: string, installationId: string): Promise<void> {
  await upsert(fleet, tenantId, { kind: 'forge', installationId, box: null, keyId: null });
}

export function openConnectCredentials(box: SecretBox, tenantId: string, row: InstallationRow): ConnectCredentials {
  if (row.kind !== 'connect' || !row.secret_box)
    throw new FleetError(
      'REFUSED',
      `tenant ${JSON.stringify(tenantId)} has no Connect credentials: it was not installed through a signed Connect install`,
    );
  if (row.secret_key_id !== box.keyId) {
    throw new FleetError(
      'REFUSED',
      `the credentials of tenant ${JSON.stringify(tenantId)} were sealed under another application secret (key id ${row.secret_key_id}, this one ${box.keyId}): give every host the same FLEET_APP_SECRET, or have the tenant reinstall`,
    );
  }
  const parsed = JSON.parse(box.open(tenantId, row.secret_box)) as Partial<ConnectCredentials>;
  if (typeof parsed.sharedSecret !== 'string' || typeof parsed.baseUrl !== 'string')
    throw new FleetError(
      'REFUSED',
      `the sealed credentials of tenant ${JSON.stringify(tenantId)} are incomplete; a reinstall seals them again`,
    );
  return { sharedSecret: parsed.sharedSecret, baseUrl: parsed.baseUrl };
}
