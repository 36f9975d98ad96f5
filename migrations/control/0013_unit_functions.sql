-- The statements withTenant runs around every unit of work, as PL/pgSQL functions: their plans
-- are made once per connection, where the same SQL sent as queries was planned on every unit
-- (the catalog views it reads, pg_roles and pg_largeobject_metadata, dominated each unit's cost).
-- See src/access/with-tenant/unit.ts.

-- Same result as 0012's, in PL/pgSQL for its cached plans, and found through the registry's
-- indexes: session_user is a name, and name's collation is "C", so `role_name = session_user::text`
-- compared in "C" and could not use the text primary keys' indexes (built in the database's
-- collation): every unit of work read fleet.session_roles and fleet.gateways whole.
CREATE OR REPLACE FUNCTION fleet_access.session_tenant()
RETURNS TABLE (tenant_id text, status text, schema_name text)
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $fn$
BEGIN
  RETURN QUERY
  SELECT t.id, t.status, t.schema_name
    FROM fleet.session_roles AS s JOIN fleet.tenants AS t ON t.id = s.tenant_id
   WHERE s.role_name = (session_user::text COLLATE "default")
  UNION ALL
  SELECT t.id, t.status, t.schema_name
    FROM fleet.gateways AS g JOIN fleet.tenants AS t ON t.id = g.tenant_id
   WHERE g.role_name = (session_user::text COLLATE "default");
END
$fn$;

-- The unit's marks, read once it has entered the tenant's role and search_path: the search_path
-- as the server spells it (the caller passes current_setting('search_path'): the function's own
-- is fixed, so that its plans are made once per connection, not again for every tenant's
-- search_path), the transaction's start (an epoch, free of DateStyle and TimeZone) and the large
-- objects the session's roles own already. SECURITY INVOKER: current_user is the caller's.
CREATE FUNCTION fleet_access.unit_marks(caller_path text)
RETURNS TABLE (path text, began text, large_objects text)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $fn$
BEGIN
  RETURN QUERY
  SELECT caller_path,
         EXTRACT(epoch FROM pg_catalog.transaction_timestamp())::text,
         (SELECT COALESCE(pg_catalog.array_agg(m.oid), '{}')
            FROM pg_catalog.pg_largeobject_metadata m
           WHERE m.lomowner IN (SELECT r.oid FROM pg_catalog.pg_roles r WHERE r.rolname IN (current_user, session_user)))::text;
END
$fn$;

-- The check before COMMIT. The caller passes back what it entered with and the marks
-- unit_marks gave it (bound parameters: nothing the unit could have changed), and its
-- current_setting('search_path') (as for unit_marks). Raises (SQLSTATE
-- FL001, DETAIL the failed checks, comma-separated) when the unit ended in another role or
-- search_path, in another transaction, not read-only though begun so (or wrote in a read-only
-- unit), or owning a new large object; the COMMIT sent behind it then rolls back. Otherwise lets go
-- of session-level advisory locks (a pooled connection keeps none) and returns whether the
-- session has a temporary schema (such a connection is not pooled again).
CREATE FUNCTION fleet_access.unit_check(entered_role text, entered_path text, began numeric, read_only boolean, large_objects oid[], caller_path text)
RETURNS boolean
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
  failed text[] := '{}';
BEGIN
  IF current_user::text IS DISTINCT FROM entered_role OR caller_path IS DISTINCT FROM entered_path THEN
    failed := failed || 'role'::text;
  END IF;
  IF EXTRACT(epoch FROM pg_catalog.transaction_timestamp()) IS DISTINCT FROM began THEN
    failed := failed || 'transaction'::text;
  END IF;
  IF read_only AND (pg_catalog.current_setting('transaction_read_only') <> 'on' OR pg_catalog.pg_current_xact_id_if_assigned() IS NOT NULL) THEN
    failed := failed || 'read_only'::text;
  END IF;
  IF EXISTS (SELECT 1 FROM pg_catalog.pg_largeobject_metadata m
              WHERE m.lomowner IN (SELECT r.oid FROM pg_catalog.pg_roles r WHERE r.rolname IN (entered_role, session_user))
                AND m.oid <> ALL (large_objects)) THEN
    failed := failed || 'large_object'::text;
  END IF;
  IF pg_catalog.cardinality(failed) > 0 THEN
    RAISE EXCEPTION 'the unit of work broke withTenant''s rules'
      USING ERRCODE = 'FL001', DETAIL = pg_catalog.array_to_string(failed, ','), HINT = current_user::text;
  END IF;
  PERFORM pg_catalog.pg_advisory_unlock_all();
  RETURN pg_catalog.pg_my_temp_schema() <> 0;
END
$fn$;

GRANT EXECUTE ON FUNCTION fleet_access.unit_marks(text), fleet_access.unit_check(text, text, numeric, boolean, oid[], text) TO PUBLIC;
