-- The runner's first round trip per tenant: take the tenant's session advisory lock and, only
-- when it was free, read the tenant's status and applied migrations. In one plain SELECT the
-- snapshot would be taken before the lock, and a runner that committed in between would go
-- unseen; each statement of a VOLATILE plpgsql function takes a fresh snapshot (READ COMMITTED),
-- so the reads here see everything committed before the lock was granted.
-- The key is the one in src/tenants/tenant-lock.ts (TENANT_LOCK_KEY_SQL); the purge takes it too.
CREATE FUNCTION fleet.lock_tenant_state(tenant text, OUT locked boolean, OUT status text, OUT applied text[])
  LANGUAGE plpgsql VOLATILE
AS $$
BEGIN
  locked := pg_try_advisory_lock(hashtextextended('fleet:tenant:' || tenant, 0));
  IF NOT locked THEN
    RETURN;
  END IF;
  SELECT t.status INTO status FROM fleet.tenants t WHERE t.id = tenant;
  SELECT coalesce(array_agg(m.name ORDER BY m.name), '{}') INTO applied FROM fleet.migrations m WHERE m.tenant_id = tenant;
END
$$;
