-- Gateway logins: warm connections that move between tenants instead of one login per tenant.
--
-- A gateway is a LOGIN-capable role <prefix>_l_gw_<n> (NOINHERIT, owning nothing, no privilege of
-- its own, CONNECT on this database only) with exactly one connection, held by one application
-- process. At any moment it is a member of at most one tenant role, and fleet.gateways says which
-- tenant: fleet_access.session_tenant() reads it, so the move and what a session learns of its
-- tenant change in one transaction. It is NOLOGIN except while its holder connects (a unit of
-- work that changes the gateway's password or settings gains nothing: the next claim resets
-- both, and nobody can log in meanwhile). See src/access/gateways.ts.

CREATE TABLE fleet.gateways (
  role_name    text PRIMARY KEY,
  -- the tenant whose role the gateway is a member of (null: none)
  tenant_id    text,
  -- the backend of the gateway's one connection (a lease, as in fleet.tenant_leases)
  holder_pid   integer,
  holder_start timestamptz,
  -- set while a process connects as the gateway (it is LOGIN only then)
  claimed_at   timestamptz
);
CREATE SEQUENCE fleet.gateway_numbers;

-- A session learns its own tenant: by its tenant login (fleet.session_roles) or, for a gateway,
-- by the tenant it currently serves.
CREATE OR REPLACE FUNCTION fleet_access.session_tenant()
RETURNS TABLE (tenant_id text, status text, schema_name text)
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $fn$
  SELECT t.id, t.status, t.schema_name
    FROM fleet.session_roles AS s JOIN fleet.tenants AS t ON t.id = s.tenant_id
   WHERE s.role_name = session_user::text
  UNION ALL
  SELECT t.id, t.status, t.schema_name
    FROM fleet.gateways AS g JOIN fleet.tenants AS t ON t.id = g.tenant_id
   WHERE g.role_name = session_user::text
$fn$;

-- Revoke every role the gateway is a member of (but rds_iam and `keep`).
CREATE FUNCTION fleet.gateway_revoke_all(gateway text, keep text) RETURNS void
  LANGUAGE plpgsql VOLATILE
  SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  r text;
BEGIN
  FOR r IN SELECT g.rolname FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid JOIN pg_roles u ON u.oid = m.member
            WHERE u.rolname = gateway AND g.rolname <> 'rds_iam' AND g.rolname IS DISTINCT FROM keep LOOP
    EXECUTE format('REVOKE %I FROM %I', r, gateway);
  END LOOP;
END
$$;

-- Claim a gateway no live backend holds (or make a new one), reset it (no membership, no settings
-- of its own, no other session), and let it log in with `verifier` (a SCRAM verifier of a random
-- password only the claimer knows; null with IAM: rds_iam instead) until fleet.hold_gateway.
CREATE FUNCTION fleet.claim_gateway(verifier text) RETURNS text
  LANGUAGE plpgsql VOLATILE
  SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  g text;
BEGIN
  SELECT w.role_name INTO g FROM fleet.gateways w
   WHERE NOT fleet.lease_holder_alive(w.holder_pid, w.holder_start)
     AND (w.claimed_at IS NULL OR w.claimed_at < now() - interval '1 minute')
   ORDER BY w.role_name LIMIT 1 FOR UPDATE SKIP LOCKED;
  IF g IS NULL THEN
    g := (SELECT role_prefix FROM fleet.access_settings) || '_l_gw_' || nextval('fleet.gateway_numbers');
    EXECUTE format('CREATE ROLE %I NOLOGIN NOINHERIT', g);
    -- Serialized GRANTs on the database row (see GRANT_CONNECT_LOCK_SQL).
    PERFORM 1 FROM fleet.access_settings FOR UPDATE;
    EXECUTE format('GRANT CONNECT ON DATABASE %I TO %I', current_database(), g);
    INSERT INTO fleet.gateways (role_name) VALUES (g);
  END IF;
  PERFORM fleet.gateway_revoke_all(g, NULL);
  EXECUTE format('ALTER ROLE %I RESET ALL', g);
  EXECUTE format('ALTER ROLE %I IN DATABASE %I RESET ALL', g, current_database());
  PERFORM pg_terminate_backend(a.pid) FROM pg_stat_activity a WHERE a.usename = g;
  IF verifier IS NULL THEN
    EXECUTE format('GRANT rds_iam TO %I', g);
    EXECUTE format('ALTER ROLE %I LOGIN', g);
  ELSE
    EXECUTE format('ALTER ROLE %I LOGIN PASSWORD %L', g, verifier);
  END IF;
  UPDATE fleet.gateways SET tenant_id = NULL, holder_pid = NULL, holder_start = NULL, claimed_at = now() WHERE role_name = g;
  RETURN g;
END
$$;

-- The claimer connected as the gateway (backend `pid`): record it as the holder, shut the door
-- (NOLOGIN) and end any other session of the gateway.
CREATE FUNCTION fleet.hold_gateway(gateway text, pid integer) RETURNS void
  LANGUAGE plpgsql VOLATILE
  SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
  UPDATE fleet.gateways w
     SET holder_pid = pid,
         holder_start = (SELECT a.backend_start FROM pg_stat_activity a WHERE a.pid = hold_gateway.pid AND a.usename = gateway),
         claimed_at = NULL
   WHERE w.role_name = gateway AND w.claimed_at IS NOT NULL
     AND EXISTS (SELECT 1 FROM pg_stat_activity a WHERE a.pid = hold_gateway.pid AND a.usename = gateway);
  IF NOT FOUND THEN
    RAISE EXCEPTION 'gateway % is not claimed by backend %', gateway, pid USING ERRCODE = 'object_not_in_prerequisite_state';
  END IF;
  EXECUTE format('ALTER ROLE %I NOLOGIN', gateway);
  PERFORM pg_terminate_backend(a.pid) FROM pg_stat_activity a WHERE a.usename = gateway AND a.pid <> hold_gateway.pid;
END
$$;

-- Move the gateway held by backend `pid` to `tenant` (its role `tenant_role`): every other
-- membership revoked, the tenant's granted, and the mapping changed, in one transaction. The
-- caller scrubbed the connection (DISCARD ALL) first; the connection is idle meanwhile. Raises
-- no_data_found for an unknown tenant (nothing changes). The commit need not wait for the disk:
-- a move lost in a crash went with the connection it was for.
CREATE FUNCTION fleet.move_gateway(gateway text, pid integer, tenant text, tenant_role text) RETURNS void
  LANGUAGE plpgsql VOLATILE
AS $$
BEGIN
  PERFORM pg_catalog.set_config('synchronous_commit', 'off', true);
  PERFORM 1 FROM fleet.tenants t WHERE t.id = tenant;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'tenant % is not registered', tenant USING ERRCODE = 'no_data_found';
  END IF;
  UPDATE fleet.gateways SET tenant_id = tenant WHERE role_name = gateway AND holder_pid = pid;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'gateway % is not held by backend %', gateway, pid USING ERRCODE = 'object_not_in_prerequisite_state';
  END IF;
  PERFORM fleet.gateway_revoke_all(gateway, tenant_role);
  EXECUTE pg_catalog.format('GRANT %I TO %I', tenant_role, gateway);
END
$$;

REVOKE ALL ON FUNCTION fleet.gateway_revoke_all(text, text), fleet.claim_gateway(text), fleet.hold_gateway(text, integer), fleet.move_gateway(text, integer, text, text) FROM PUBLIC;
