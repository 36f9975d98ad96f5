-- The ledger keeps the SQL each tenant actually ran: the up file's text and its down file's text
-- at apply time. A migration edited after it reached some tenants can then be reverted on them
-- with the down that matches what they applied (fleet rollback --tenant), and the edited file
-- applied again; without this the only way forward was retyping the old file byte for byte.
-- NULL for rows written before this migration (and down_sql for a migration without a down file).
ALTER TABLE fleet.migrations ADD COLUMN sql text, ADD COLUMN down_sql text;
