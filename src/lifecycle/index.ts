/**
 * `tenant-fleet/lifecycle`: a tenant's life after it is registered: install (or reactivate),
 * uninstall, the operator's hold, the stale sweep, and the contact every request records.
 */
export { installTenant, type InstallOptions, type InstallResult } from './install.ts';
export { uninstallTenant, type UninstallOptions } from './uninstall.ts';
export { holdTenant, releaseTenant } from './hold.ts';
export { sweepStaleTenants, type StaleTenant, type SweepOptions, type SweepReport } from './sweep.ts';
export { touchTenant, TOUCH_INTERVAL_MS, type TouchResult } from '../tenants/touch.ts';
export type { TransitionResult } from './transition.ts';
export type { DisconnectCause, TenantStatus } from '../tenants/tenant-row.ts';
export { unknownTenants } from './unknown-tenants.ts';
