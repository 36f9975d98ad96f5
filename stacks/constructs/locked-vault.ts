import { Construct } from 'constructs';
import type { TerraformProvider } from 'cdktf';
import { BackupVault } from '@cdktf/provider-aws/lib/backup-vault/index.js';
import { BackupVaultLockConfiguration } from '@cdktf/provider-aws/lib/backup-vault-lock-configuration/index.js';

export interface LockedVaultProps {
  readonly name: string;
  /** Customer-managed key in the vault's region. */
  readonly kmsKeyArn: string;
  /** Provider of the vault's region; default: the stack's default AWS provider. */
  readonly provider?: TerraformProvider;
  readonly minRetentionDays: number;
  readonly maxRetentionDays: number;
  /**
   * Days the lock can still be removed; after that it is in compliance mode and nobody, the
   * root user included, can shorten retention or delete the vault.
   */
  readonly changeableForDays: number;
}

/** A backup vault under the fleet's own key, with a vault lock so recovery points outlive mistakes and attackers. */
export class LockedVault extends Construct {
  readonly vault: BackupVault;
  readonly lock: BackupVaultLockConfiguration;

  constructor(scope: Construct, id: string, props: LockedVaultProps) {
    super(scope, id);
    this.vault = new BackupVault(this, 'vault', {
      ...(props.provider ? { provider: props.provider } : {}),
      name: props.name,
      kmsKeyArn: props.kmsKeyArn,
      forceDestroy: false,
    });
    this.lock = new BackupVaultLockConfiguration(this, 'lock', {
      ...(props.provider ? { provider: props.provider } : {}),
      backupVaultName: this.vault.name,
      minRetentionDays: props.minRetentionDays,
      maxRetentionDays: props.maxRetentionDays,
      changeableForDays: props.changeableForDays,
    });
  }
}
