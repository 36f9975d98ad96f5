import type { PolicyRule } from './types.ts';
import { evaluateSynthDir, type PolicyReport } from './run.ts';
import { rdsNotPublic } from './rules/rds-not-public.ts';
import { rdsEncryptedCmk } from './rules/rds-encrypted-cmk.ts';
import { rdsMultiAz } from './rules/rds-multi-az.ts';
import { rdsDeletionProtection } from './rules/rds-deletion-protection.ts';
import { rdsLogsExported } from './rules/rds-logs-exported.ts';
import { rdsIamAuth } from './rules/rds-iam-auth.ts';
import { rdsBackupRetention } from './rules/rds-backup-retention.ts';
import { rdsMinorUpgrades } from './rules/rds-minor-upgrades.ts';
import { rdsTagsToSnapshots } from './rules/rds-tags-to-snapshots.ts';
import { rdsPerformanceInsightsEncrypted } from './rules/rds-performance-insights-encrypted.ts';
import { rdsTlsForced } from './rules/rds-tls-forced.ts';
import { rdsManagedMasterSecret } from './rules/rds-managed-master-secret.ts';
import { rdsDataClassification } from './rules/rds-data-classification.ts';
import { rdsBackupPlan } from './rules/rds-backup-plan.ts';
import { rdsRestoreTested } from './rules/rds-restore-tested.ts';
import { restoreTestingOwnVault } from './rules/restore-testing-own-vault.ts';
import { backupVaultCmk } from './rules/backup-vault-cmk.ts';
import { backupVaultLocked } from './rules/backup-vault-locked.ts';
import { backupCopySameJurisdiction } from './rules/backup-copy-same-jurisdiction.ts';
import { kmsRotation } from './rules/kms-rotation.ts';
import { logsEncryptedCmk } from './rules/logs-encrypted-cmk.ts';
import { snsEncryptedCmk } from './rules/sns-encrypted-cmk.ts';
import { iamNoWildcardAdmin } from './rules/iam-no-wildcard-admin.ts';
import { rdsDbConnectScoped } from './rules/rds-db-connect-scoped.ts';
import { iamHumanMfa } from './rules/iam-human-mfa.ts';
import { iamSupportSession } from './rules/iam-support-session.ts';
import { iamOidcTrustScoped } from './rules/iam-oidc-trust-scoped.ts';
import { purgeOperatorPeopleOnly } from './rules/purge-operator-people-only.ts';
import { purgePipelineRoleScoped } from './rules/purge-pipeline-role-scoped.ts';
import { sgPostgresOnly } from './rules/sg-postgres-only.ts';
import { defaultSgClosed } from './rules/default-sg-closed.ts';
import { stateBackendSecure } from './rules/state-backend-secure.ts';

/** Every rule of the pack, in the order the table lists them. */
export const ALL_RULES: readonly PolicyRule[] = [
  rdsNotPublic,
  rdsEncryptedCmk,
  rdsMultiAz,
  rdsDeletionProtection,
  rdsLogsExported,
  rdsIamAuth,
  rdsBackupRetention,
  rdsMinorUpgrades,
  rdsTagsToSnapshots,
  rdsPerformanceInsightsEncrypted,
  rdsTlsForced,
  rdsManagedMasterSecret,
  rdsDataClassification,
  rdsBackupPlan,
  rdsRestoreTested,
  backupVaultCmk,
  backupVaultLocked,
  backupCopySameJurisdiction,
  restoreTestingOwnVault,
  kmsRotation,
  logsEncryptedCmk,
  snsEncryptedCmk,
  iamNoWildcardAdmin,
  rdsDbConnectScoped,
  iamHumanMfa,
  iamSupportSession,
  iamOidcTrustScoped,
  purgeOperatorPeopleOnly,
  purgePipelineRoleScoped,
  sgPostgresOnly,
  defaultSgClosed,
  stateBackendSecure,
];

/** The whole pack over a synth output directory: what `fleet policy` runs. */
export function checkSynthDir(dir: string): PolicyReport {
  return evaluateSynthDir(dir, ALL_RULES);
}

export type { PolicyRule, Finding, RuleResult, Status, SynthResource, StackView } from './types.ts';
export { evaluateStack, evaluateSynthDir, type PolicyReport } from './run.ts';
export { formatTable } from './report.ts';
