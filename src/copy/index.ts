/**
 * `src/copy`: copy one tenant between two PostgreSQL databases, verified (structure from its own
 * ledger, data streamed with COPY, sequences, per-table counts and checksums), and what is built
 * on it: moving a tenant between regions, with the phases of Atlassian's realm-migration hooks.
 */
export {
  copyTenant,
  type CopyDestination,
  type CopyReport,
  type CopySource,
  type CopyStep,
  type CopyTenantOptions,
} from './copy-tenant.ts';
export { checksumDifferences, schemaChecksums, tableChecksum, type TableChecksum } from './checksum.ts';
export { listTables, type CopyTable } from './tables.ts';
export { dropTenantData } from './drop-copy.ts';
export {
  commitMove,
  MoveBusy,
  moveStatus,
  moveTenant,
  rollbackMove,
  scheduleMove,
  startMove,
  type MoveOptions,
  type MovePlan,
  type MoveResult,
} from './move.ts';
export type { MoveStatus } from './move-state.ts';
export { exportTenant, type ExportManifest } from './export.ts';
export { asideSchemasOf, discardAside, restoreTenant, type RestoreOptions, type RestoreResult } from './restore.ts';
