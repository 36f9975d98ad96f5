import { DAY_MS } from '../clock.ts';
import type { Fleet } from '../fleet.ts';

/** When a tenant disconnected at `at` becomes due for purge: `at` + the fleet's grace period. */
export function purgeAfterFor(fleet: Fleet, at: Date): Date {
  return new Date(at.getTime() + fleet.config.lifecycle.graceDays * DAY_MS);
}
