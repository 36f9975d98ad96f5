-- Tenant copies (move, restore): a tenant being copied is not served, and where a tenant came
-- from is kept.
--
-- 1. Two statuses: 'moving' (the tenant's data is being copied to or from another database: the
--    request guard and withTenant answer TENANT_NOT_ACTIVE, as for any status but 'active') and
--    'restoring' (a restored copy is being made for this id). The runner migrates neither: the
--    copy holds the tenant's lease while it works.
-- 2. fleet.tenants.moved_from: the region a moved tenant came from (NULL for a tenant made here).
-- 3. fleet.tenant_copies: one row per copy in progress in the database it is written to, so a
--    rerun after a kill finds what is half-made and finishes or removes it.
ALTER TABLE fleet.tenants DROP CONSTRAINT tenants_status_check;
ALTER TABLE fleet.tenants ADD CONSTRAINT tenants_status_check
  CHECK (status IN ('provisioning', 'active', 'disconnected', 'purged', 'moving', 'restoring'));
ALTER TABLE fleet.tenants ADD COLUMN moved_from text;

CREATE TABLE fleet.tenant_copies (
  tenant_id   text PRIMARY KEY,
  -- 'out': this database holds the source (the tenant stays here until the copy commits);
  -- 'in': this database holds the half-made target.
  direction   text NOT NULL CHECK (direction IN ('out', 'in')),
  kind        text NOT NULL CHECK (kind IN ('move', 'restore')),
  peer        text NOT NULL,
  -- copying: the target is being built; verified: it equals the source (counts and checksums);
  -- failed: the copy did not verify and its target was dropped (details.error says why).
  phase       text NOT NULL CHECK (phase IN ('copying', 'verified', 'failed')),
  started_at  timestamptz NOT NULL,
  updated_at  timestamptz NOT NULL,
  actor       text NOT NULL,
  details     jsonb NOT NULL DEFAULT '{}'::jsonb
);
REVOKE ALL ON TABLE fleet.tenant_copies FROM PUBLIC;

-- A live tenant's schema set aside by a restore that replaced it: kept (renamed, no tenant
-- privilege on it) until drop_after, then dropped by `fleet tenants restore --discard-aside`.
CREATE TABLE fleet.aside_schemas (
  schema_name  text PRIMARY KEY,
  tenant_id    text NOT NULL,
  set_aside_at timestamptz NOT NULL,
  drop_after   timestamptz NOT NULL,
  actor        text NOT NULL
);
REVOKE ALL ON TABLE fleet.aside_schemas FROM PUBLIC;
