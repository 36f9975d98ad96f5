-- The request guard (src/requests/): what proves a request comes from a tenant.
--
-- One row per tenant installed through Atlassian (Connect or Forge). Connect: the tenant's
-- sharedSecret and site baseUrl, sealed with AES-256-GCM under a key derived from the application
-- secret (src/atlassian/secret-box.ts); the database never sees the key, so whoever reads this table
-- (a backup, a support login, a leaked dump) learns nothing it can sign with. Forge: the current
-- installationId (it changes on reinstall, the cloudId, which is the tenant id, does not); a Forge
-- Invocation Token of another installation is refused.
-- Written only after a verified signed install (Connect) or a verified FIT (Forge).
CREATE TABLE fleet.installations (
  -- No foreign key, as fleet.session_roles: the registry's rows are never deleted (a purge marks
  -- them), and tools that reset a registry wholesale need not know this table.
  tenant_id       text PRIMARY KEY,
  kind            text NOT NULL CHECK (kind IN ('connect', 'forge')),
  installation_id text,
  -- version byte, 12-byte IV, 16-byte tag, ciphertext; the tenant id is the additional data, so a
  -- sealed secret copied to another tenant's row does not open.
  secret_box      bytea,
  -- which application secret sealed it (an HMAC under the secret, not the secret)
  secret_key_id   text,
  installed_at    timestamptz NOT NULL,
  updated_at      timestamptz NOT NULL,
  CHECK (kind <> 'connect' OR (secret_box IS NOT NULL AND secret_key_id IS NOT NULL)),
  CHECK (kind <> 'forge' OR installation_id IS NOT NULL)
);
CREATE UNIQUE INDEX installations_installation_id ON fleet.installations (installation_id) WHERE installation_id IS NOT NULL;

-- A purge deletes the tenant's credentials with its data, whichever code path purges: the row goes
-- when the registry row turns purged (a later install writes a new one).
CREATE FUNCTION fleet.forget_installation() RETURNS trigger
  LANGUAGE plpgsql
  SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
  DELETE FROM fleet.installations WHERE tenant_id = NEW.id;
  RETURN NEW;
END
$$;
CREATE TRIGGER tenants_forget_installation
  AFTER UPDATE OF status ON fleet.tenants
  FOR EACH ROW WHEN (NEW.status = 'purged' AND OLD.status IS DISTINCT FROM 'purged')
  EXECUTE FUNCTION fleet.forget_installation();

-- Lifecycle callbacks already accepted, by the SHA-256 of their token: a captured callback replayed
-- within its lifetime (a few minutes) is refused on every host. Rows older than the token's expiry
-- are deleted as new ones arrive.
CREATE TABLE fleet.callback_replays (
  token_hash text PRIMARY KEY,
  expires_at timestamptz NOT NULL
);
CREATE INDEX callback_replays_expires ON fleet.callback_replays (expires_at);
