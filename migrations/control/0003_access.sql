-- Access: tenant roles, the application's login role, support grants (src/access/).
--
-- Roles are cluster-wide in PostgreSQL while each region is one database, and several databases
-- may share one server (the embedded default, the test suite). So every role this database makes
-- carries a prefix unique to the database, generated here once: 'f' + 8 hex characters, chosen so
-- that no existing role starts with it. The naming rule (src/access/names.ts):
--   <prefix>_tenants          NOLOGIN NOINHERIT group: a member of every tenant role
--   <prefix>_<schema>         a tenant's role (hashed when longer than 63 bytes)
--   <prefix>_app              the application's login role (URL / embedded mode)
--   <prefix>_support_<id>     one support grant

CREATE TABLE fleet.access_settings (
  singleton   boolean PRIMARY KEY DEFAULT true CHECK (singleton),
  role_prefix text NOT NULL UNIQUE CHECK (role_prefix ~ '^f[0-9a-f]{8}$'),
  -- the application's login role once created (or the IAM user named by the fleet description)
  app_role    text
);

DO $$
DECLARE
  candidate text;
BEGIN
  LOOP
    candidate := 'f' || substr(md5(random()::text || clock_timestamp()::text || pg_backend_pid()::text), 1, 8);
    EXIT WHEN NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE starts_with(rolname, candidate || '_'));
  END LOOP;
  INSERT INTO fleet.access_settings (role_prefix) VALUES (candidate);
  EXECUTE format('CREATE ROLE %I NOLOGIN NOINHERIT', candidate || '_tenants');
END
$$;

-- Support grants: a read-only role on one tenant's schema, bound to a ticket, expiring.
CREATE TABLE fleet.support_grants (
  id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  tenant_id     text NOT NULL,
  schema_name   text NOT NULL,
  role_name     text NOT NULL UNIQUE,
  ticket        text NOT NULL CHECK (length(ticket) BETWEEN 1 AND 200),
  -- a database user the role was granted to (--to), or null: the role logs in by itself
  granted_to    text,
  granted_by    text NOT NULL,
  granted_at    timestamptz NOT NULL,
  expires_at    timestamptz NOT NULL CHECK (expires_at > granted_at AND expires_at <= granted_at + interval '8 hours'),
  revoked_at    timestamptz,
  revoked_by    text,
  revoke_reason text CHECK (revoke_reason IN ('revoked', 'expired', 'tenant-gone'))
);
CREATE INDEX support_grants_open ON fleet.support_grants (expires_at) WHERE revoked_at IS NULL;
CREATE INDEX support_grants_tenant ON fleet.support_grants (tenant_id, granted_at);

-- What the application's login role may learn about a tenant: its status and schema, one id at a
-- time. The login role has no privilege on any fleet table; it calls this (EXECUTE granted when the
-- role is set up). SECURITY DEFINER with a fixed search_path.
CREATE FUNCTION fleet.tenant_status(p_id text)
RETURNS TABLE (status text, schema_name text)
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $fn$
  SELECT t.status, t.schema_name FROM fleet.tenants AS t WHERE t.id = p_id
$fn$;
REVOKE ALL ON FUNCTION fleet.tenant_status(text) FROM PUBLIC;
