-- Whether a lease's holder is alive, without the pg_stat_activity view, which joins every
-- backend's row to pg_database and pg_authid: pg_stat_get_activity(pid) returns one backend's
-- row. Same answer as 0006's: a holder whose start time this role may not see (NULL without
-- pg_read_all_stats) counts as alive.
CREATE OR REPLACE FUNCTION fleet.lease_holder_alive(pid integer, started timestamptz) RETURNS boolean
  LANGUAGE sql STABLE
  SET search_path = pg_catalog, pg_temp
AS $$
  SELECT pid IS NOT NULL AND EXISTS (
    SELECT 1 FROM pg_catalog.pg_stat_get_activity(lease_holder_alive.pid) AS a
     WHERE a.pid = lease_holder_alive.pid AND (a.backend_start IS NULL OR a.backend_start = started))
$$;

-- 0012's claim, choosing among the gateways against one read of the backends instead of one per
-- gateway (208 ms against 2 ms with 767 gateways). Everything else is as in 0012.
CREATE OR REPLACE FUNCTION fleet.claim_gateway(verifier text) RETURNS text
  LANGUAGE plpgsql VOLATILE
  SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  g text;
BEGIN
  -- The free gateways first, all at once (a hashed anti-join: planned under LIMIT 1, the same test
  -- read the backends again for each gateway). The test is repeated on the row locked, which a
  -- concurrent claim may have changed meanwhile (then only that row's new version is checked).
  SELECT w.role_name INTO g FROM fleet.gateways w
   WHERE w.role_name = ANY (ARRAY(
           SELECT f.role_name FROM fleet.gateways f
            WHERE NOT EXISTS (SELECT 1 FROM pg_stat_get_activity(NULL) AS a
                               WHERE a.pid = f.holder_pid AND (a.backend_start IS NULL OR a.backend_start = f.holder_start))))
     AND NOT fleet.lease_holder_alive(w.holder_pid, w.holder_start)
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
