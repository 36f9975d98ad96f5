-- Runner locks tenants cannot touch, and tenant logins that reach only their own database.
--
-- 1. The runner's per-tenant lock was a session advisory lock. Advisory lock keys are public and
--    need no privilege: any tenant session could take another tenant's key and make the runner
--    and the purge skip that tenant. Now a tenant is held through a lease row in a control table
--    no tenant role can read or write: the holder is a backend (pid and start time) and the lease
--    ends with that backend, like a session lock does. See src/tenants/tenant-lock.ts.
-- 2. PUBLIC loses CONNECT on this database; the fleet's session and support roles (and the staff
--    logins of open support grants) get CONNECT here explicitly. Other fleet databases on the same server do the same, so a
--    tenant login cannot log in elsewhere and own something there that would block its DROP ROLE.

CREATE TABLE fleet.tenant_leases (
  tenant_id    text PRIMARY KEY,
  holder_pid   integer,
  holder_start timestamptz
) WITH (fillfactor = 50);

-- Is the backend that holds a lease still there? A backend whose start time this role cannot see
-- (another role's session without pg_read_all_stats) counts as alive: a lease is never stolen
-- from a live holder, at worst it waits for that session to end.
CREATE FUNCTION fleet.lease_holder_alive(pid integer, started timestamptz) RETURNS boolean
  LANGUAGE sql STABLE
  SET search_path = pg_catalog, pg_temp
AS $$
  SELECT pid IS NOT NULL AND EXISTS (
    SELECT 1 FROM pg_catalog.pg_stat_activity a
     WHERE a.pid = lease_holder_alive.pid AND (a.backend_start IS NULL OR a.backend_start = started))
$$;

-- Take the tenant's lease for this backend without waiting: false when a live backend holds it
-- (or its row is locked by a purge in progress). Re-entrant for the backend that holds it.
-- No SET clause on this function or the next: it would undo their set_config(..., true) on exit.
CREATE FUNCTION fleet.try_tenant_lease(tenant text) RETURNS boolean
  LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
  h_pid integer;
  h_start timestamptz;
BEGIN
  -- A lost lease write is harmless (its holder is gone after a crash): no need to wait for the disk.
  PERFORM pg_catalog.set_config('synchronous_commit', 'off', true);
  INSERT INTO fleet.tenant_leases (tenant_id) VALUES (tenant) ON CONFLICT (tenant_id) DO NOTHING;
  BEGIN
    SELECT l.holder_pid, l.holder_start INTO h_pid, h_start FROM fleet.tenant_leases l WHERE l.tenant_id = tenant FOR UPDATE NOWAIT;
  EXCEPTION WHEN lock_not_available THEN
    RETURN false;
  END;
  IF h_pid IS NOT NULL AND h_pid <> pg_backend_pid() AND fleet.lease_holder_alive(h_pid, h_start) THEN
    RETURN false;
  END IF;
  UPDATE fleet.tenant_leases
     SET holder_pid = pg_catalog.pg_backend_pid(),
         holder_start = (SELECT a.backend_start FROM pg_catalog.pg_stat_activity a WHERE a.pid = pg_catalog.pg_backend_pid())
   WHERE tenant_id = tenant;
  RETURN true;
END
$$;

-- Give back the tenant's lease if this backend holds it.
CREATE FUNCTION fleet.release_tenant_lease(tenant text) RETURNS void
  LANGUAGE sql VOLATILE
AS $$
  SELECT pg_catalog.set_config('synchronous_commit', 'off', true);
  UPDATE fleet.tenant_leases SET holder_pid = NULL, holder_start = NULL
   WHERE tenant_id = tenant AND holder_pid = pg_catalog.pg_backend_pid();
$$;

-- In the caller's transaction: lock the tenant's lease row (waiting at most lock_timeout) and make
-- sure no live runner holds the lease; raises lock_not_available (55P03) otherwise. Held until the
-- transaction ends; a runner trying the lease meanwhile finds the row locked and skips the tenant.
CREATE FUNCTION fleet.lock_tenant_for_transaction(tenant text) RETURNS void
  LANGUAGE plpgsql VOLATILE
  SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  h_pid integer;
  h_start timestamptz;
BEGIN
  INSERT INTO fleet.tenant_leases (tenant_id) VALUES (tenant) ON CONFLICT (tenant_id) DO NOTHING;
  SELECT l.holder_pid, l.holder_start INTO h_pid, h_start FROM fleet.tenant_leases l WHERE l.tenant_id = tenant FOR UPDATE;
  IF h_pid IS NOT NULL AND h_pid <> pg_backend_pid() AND fleet.lease_holder_alive(h_pid, h_start) THEN
    RAISE EXCEPTION 'tenant % is held by a runner (backend %)', tenant, h_pid USING ERRCODE = 'lock_not_available';
  END IF;
END
$$;

-- The runner's first round trip per tenant (replaces 0005's): take the tenant's lease and, only
-- when it was free, read the tenant's status and applied migrations. Each statement of a VOLATILE
-- plpgsql function takes a fresh snapshot (READ COMMITTED), so the reads see everything committed
-- before the lease was taken.
CREATE OR REPLACE FUNCTION fleet.lock_tenant_state(tenant text, OUT locked boolean, OUT status text, OUT applied text[])
  LANGUAGE plpgsql VOLATILE
AS $$
BEGIN
  locked := fleet.try_tenant_lease(tenant);
  IF NOT locked THEN
    RETURN;
  END IF;
  SELECT t.status INTO status FROM fleet.tenants t WHERE t.id = tenant;
  SELECT coalesce(array_agg(m.name ORDER BY m.name), '{}') INTO applied FROM fleet.migrations m WHERE m.tenant_id = tenant;
END
$$;

REVOKE ALL ON TABLE fleet.tenant_leases FROM PUBLIC;
REVOKE ALL ON FUNCTION fleet.lease_holder_alive(integer, timestamptz), fleet.try_tenant_lease(text), fleet.release_tenant_lease(text),
  fleet.lock_tenant_for_transaction(text), fleet.lock_tenant_state(text) FROM PUBLIC;

-- A database-level privilege: only the database's owner (or a superuser) can change it; anyone
-- else gets a warning and nothing changes (the operator then does it, see docs/access.md).
DO $$
DECLARE
  r record;
BEGIN
  EXECUTE format('REVOKE CONNECT ON DATABASE %I FROM PUBLIC', current_database());
  FOR r IN SELECT s.role_name FROM fleet.session_roles s JOIN pg_catalog.pg_roles p ON p.rolname = s.role_name
           UNION
           SELECT g.role_name FROM fleet.support_grants g JOIN pg_catalog.pg_roles p ON p.rolname = g.role_name WHERE g.revoked_at IS NULL
           UNION
           SELECT g.granted_to FROM fleet.support_grants g JOIN pg_catalog.pg_roles p ON p.rolname = g.granted_to WHERE g.revoked_at IS NULL
  LOOP
    EXECUTE format('GRANT CONNECT ON DATABASE %I TO %I', current_database(), r.role_name);
  END LOOP;
END
$$;
