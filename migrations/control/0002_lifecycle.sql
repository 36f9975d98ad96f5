-- Tenant lifecycle and purge: why a tenant was disconnected, and a tombstone for every purge.

-- What disconnected a tenant: an uninstall event, or silence noticed by a sweep. Contact from a
-- tenant a sweep disconnected brings it back (it was alive after all); contact after an uninstall
-- does not (only a reinstall does).
ALTER TABLE fleet.tenants
  ADD COLUMN disconnect_cause text CHECK (disconnect_cause IN ('uninstalled', 'stale'));

-- The sweep looks for active tenants without recent contact.
CREATE INDEX tenants_stale ON fleet.tenants (coalesce(last_contact_at, created_at)) WHERE status = 'active';

-- One row per purge, kept forever: the evidence an auditor asks for. A tenant purged, reinstalled
-- and purged again has two. No foreign key: a tombstone must outlive anything done to the registry.
CREATE TABLE fleet.tombstones (
  id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  tenant_id         text NOT NULL,
  schema_name       text NOT NULL,
  region            text NOT NULL,
  disconnected_at   timestamptz,
  disconnect_cause  text,
  purge_after       timestamptz NOT NULL,
  purged_at         timestamptz NOT NULL,
  -- When the last backup that may still hold the tenant's data expires: purged_at + the longest
  -- backup retention (daily, weekly, RDS point-in-time recovery).
  backup_expires_at timestamptz NOT NULL,
  tables            integer NOT NULL,
  approx_bytes      bigint NOT NULL,
  actor             text NOT NULL,
  UNIQUE (tenant_id, purged_at)
);
CREATE INDEX tombstones_purged_at ON fleet.tombstones (purged_at);
