import type { Fleet } from '../fleet.ts';
import { assertTenantId } from '../tenants/ids.ts';
import { installTenant, type InstallResult } from '../lifecycle/install.ts';
import { uninstallTenant } from '../lifecycle/uninstall.ts';
import { findTenant } from '../tenants/tenant-row.ts';
import type { TransitionResult } from '../lifecycle/transition.ts';
import { recordForgeInstallation } from './installations.ts';

/**
 * Forge lifecycle events, delivered to the app's remote with a Forge Invocation Token that the
 * request guard has verified (src/requests). The tenant id is the site's cloudId (stable across
 * reinstalls); the installationId (new on every reinstall) is recorded so tokens of an earlier
 * installation are refused.
 */
export interface ForgeInstalledOptions {
  /** Region for a tenant installed for the first time (required when the fleet has several). */
  readonly region?: string;
  readonly onChange?: (tenantId: string) => void;
}

/** The `installed` event: register (or reactivate) the site and record its current installationId. */
export async function receiveForgeInstalled(
  fleet: Fleet,
  tenantId: string,
  installationId: string,
  options: ForgeInstalledOptions = {},
): Promise<InstallResult> {
  assertTenantId(tenantId);
  const known = await findTenant(fleet, tenantId);
  const region = !known && options.region !== undefined ? { region: options.region } : {};
  const result = await installTenant(fleet, tenantId, {
    ...region,
    reason: 'Forge installed event',
    details: { via: 'forge', installationId },
  });
  await recordForgeInstallation(fleet, tenantId, installationId);
  options.onChange?.(tenantId);
  return result;
}

/** The `preUninstall` event: an uninstall (the tenant's purge clock starts). */
export async function receiveForgePreUninstall(
  fleet: Fleet,
  tenantId: string,
  installationId: string,
  options: { onChange?: (tenantId: string) => void } = {},
): Promise<TransitionResult> {
  const result = await uninstallTenant(fleet, tenantId, { reason: 'Forge preUninstall event', details: { via: 'forge', installationId } });
  options.onChange?.(tenantId);
  return result;
}
