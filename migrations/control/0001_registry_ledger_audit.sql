-- The control schema of a regional database: the tenant registry, the migration ledger and the
-- audit trail. Applied automatically (under an advisory lock) whenever the runner connects.

CREATE TABLE fleet.tenants (
  id              text PRIMARY KEY CHECK (id ~ '^[a-z0-9][a-z0-9_-]{0,59}$'),
  schema_name     text NOT NULL UNIQUE,
  region          text NOT NULL,
  -- provisioning: registered, schema not yet migrated to latest (an interrupted add is completed by a rerun)
  status          text NOT NULL DEFAULT 'provisioning'
                  CHECK (status IN ('provisioning', 'active', 'disconnected', 'purged')),
  created_at      timestamptz NOT NULL,
  updated_at      timestamptz NOT NULL,
  last_contact_at timestamptz,
  disconnected_at timestamptz,
  purge_after     timestamptz,
  hold_reason     text,
  held_at         timestamptz,
  held_by         text,
  purged_at       timestamptz,
  CHECK (status <> 'disconnected' OR purge_after IS NOT NULL)
);
CREATE INDEX tenants_region_status ON fleet.tenants (region, status);
CREATE INDEX tenants_purge_due ON fleet.tenants (purge_after) WHERE status = 'disconnected';

-- One row per migration applied to a tenant schema, written in the same transaction as the
-- migration itself, so the ledger never claims what the schema lacks.
CREATE TABLE fleet.migrations (
  tenant_id   text NOT NULL REFERENCES fleet.tenants (id) ON DELETE CASCADE,
  name        text NOT NULL,
  checksum    text NOT NULL,
  applied_at  timestamptz NOT NULL,
  duration_ms integer NOT NULL,
  PRIMARY KEY (tenant_id, name)
);

CREATE TABLE fleet.audit_events (
  id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  at         timestamptz NOT NULL,
  tenant_id  text,
  action     text NOT NULL,
  from_state text,
  to_state   text,
  reason     text,
  actor      text NOT NULL,
  details    jsonb NOT NULL DEFAULT '{}'::jsonb
);
CREATE INDEX audit_events_tenant ON fleet.audit_events (tenant_id, at);
CREATE INDEX audit_events_action ON fleet.audit_events (action, at);
