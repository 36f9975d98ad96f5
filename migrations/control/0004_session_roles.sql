-- Access: one LOGIN ("session role") per tenant instead of one application login for all tenants.
--
-- Until now withTenant connected as one application login role, a member (through the group
-- <prefix>_tenants) of every tenant role. PostgreSQL checks SET ROLE against the session user, so
-- SQL running inside withTenant could SET ROLE to another tenant's role. Now each tenant has a
-- session role <prefix>_l_<schema>: LOGIN, NOINHERIT, owning nothing, holding no privilege, a member
-- of exactly one role, its tenant's. withTenant connects as it (src/access/). See docs/access.md.

-- Which session role belongs to which tenant. Written by createTenantRole (the migrator, when the
-- tenant is provisioned), read by fleet_access.session_tenant() below.
CREATE TABLE fleet.session_roles (
  role_name   text PRIMARY KEY,
  tenant_id   text NOT NULL UNIQUE,
  schema_name text NOT NULL,
  -- how the login last got its credentials: 'iam' (granted rds_iam), or 'scram:<key id>' (a SCRAM
  -- verifier of the password derived from the application secret with that key id); null: not yet.
  login_auth  text
);

-- What a session role may learn: its own tenant's id, status and schema, nothing else. It takes no
-- argument: the tenant is the session user's, so no login can ask about another tenant. In a schema
-- of its own holding only this function, so that USAGE and EXECUTE can go to PUBLIC (no per-role
-- grants: a session role holds no privilege at all) without exposing anything in the schema fleet.
CREATE SCHEMA fleet_access;
GRANT USAGE ON SCHEMA fleet_access TO PUBLIC;
CREATE FUNCTION fleet_access.session_tenant()
RETURNS TABLE (tenant_id text, status text, schema_name text)
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $fn$
  SELECT t.id, t.status, t.schema_name
    FROM fleet.session_roles AS s JOIN fleet.tenants AS t ON t.id = s.tenant_id
   WHERE s.role_name = session_user::text
$fn$;
REVOKE ALL ON FUNCTION fleet_access.session_tenant() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION fleet_access.session_tenant() TO PUBLIC;

-- The shared login's way into every tenant goes: the group (dropping a role removes its
-- memberships both ways), and the application role's grants (the generated <prefix>_app role is
-- dropped; an IAM user named by the fleet description is only stripped of what it was granted here).
DO $$
DECLARE
  prefix text;
  app text;
BEGIN
  SELECT role_prefix, app_role INTO prefix, app FROM fleet.access_settings;
  IF app IS NOT NULL AND EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = app) THEN
    IF app = prefix || '_app' THEN
      EXECUTE format('DROP OWNED BY %I', app);
      EXECUTE format('DROP ROLE %I', app);
    ELSE
      EXECUTE format('REVOKE EXECUTE ON FUNCTION fleet.tenant_status(text) FROM %I', app);
      EXECUTE format('REVOKE SELECT ON fleet.access_settings FROM %I', app);
      EXECUTE format('REVOKE USAGE ON SCHEMA fleet FROM %I', app);
    END IF;
  END IF;
  UPDATE fleet.access_settings SET app_role = NULL;
  IF EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = prefix || '_tenants') THEN
    EXECUTE format('DROP ROLE %I', prefix || '_tenants');
  END IF;
END
$$;
