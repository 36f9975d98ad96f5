/**
 * Numbers the security statement promises, shared by the stacks that keep them, the policy pack
 * that checks them and the documents that state them, so the three cannot disagree.
 */

/** Days of RDS automated backups (point-in-time recovery); 35 is RDS's maximum. */
export const AUTOMATED_BACKUP_DAYS = 35;

/** Longest session of a role a person assumes, in seconds. */
export const MAX_HUMAN_SESSION_SECONDS = 3600;

/** Restore tests pick the latest recovery point no older than this many days (weekly backups: 7). */
export const RESTORE_TEST_SELECTION_DAYS = 7;

/** Hours a restored test copy is kept for validation before AWS Backup deletes it. */
export const RESTORE_TEST_VALIDATION_HOURS = 8;
