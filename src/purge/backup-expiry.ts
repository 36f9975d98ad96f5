import { DAY_MS } from '../clock.ts';
import type { FleetConfig } from '../config/schema.ts';

/**
 * RDS keeps automated backups (point-in-time recovery) for at most 35 days, and the stacks ask for
 * exactly that (stacks/promises.ts AUTOMATED_BACKUP_DAYS). Counted here so the expiry we report
 * is never earlier than the truth, whatever the AWS Backup plan's retentions are.
 */
export const RDS_MAX_AUTOMATED_BACKUP_DAYS = 35;

/** The longest time any backup taken before a purge can still hold the purged data. */
export function backupRetentionDays(config: FleetConfig): number {
  return Math.max(config.backup.dailyRetentionDays, config.backup.weeklyRetentionDays, RDS_MAX_AUTOMATED_BACKUP_DAYS);
}

/**
 * When the last backup holding a tenant purged at `purgedAt` expires: every backup taken before
 * the purge is at most `purgedAt` old and kept for at most the longest retention (the off-site
 * copies keep the same retention as their source).
 */
export function backupExpiry(config: FleetConfig, purgedAt: Date): Date {
  return new Date(purgedAt.getTime() + backupRetentionDays(config) * DAY_MS);
}
