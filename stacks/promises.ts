/**
 * Numbers the security statement promises, shared by the stacks that keep them, the policy pack
 * that checks them and the documents that state them, so the three cannot disagree.
 */

/** Days of RDS automated backups (point-in-time recovery); 35 is RDS's maximum. */
export const AUTOMATED_BACKUP_DAYS = 35;

/** Longest session of a role a person assumes, in seconds. */
export const MAX_HUMAN_SESSION_SECONDS = 3600;
