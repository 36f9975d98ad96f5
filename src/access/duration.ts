import { FleetError } from '../errors.ts';

export const MAX_SUPPORT_TTL_MS = 8 * 3_600_000;
export const MIN_SUPPORT_TTL_MS = 60_000;

/**
 * A support grant's time to live: `90m`, `2h`, `1h30m`, `45m30s`, `8h` (hours, minutes, seconds,
 * in that order, each at most once). From 1 minute to 8 hours.
 */
export function parseTtl(text: string): number {
  const match = /^(?:(\d{1,4})h)?(?:(\d{1,5})m)?(?:(\d{1,6})s)?$/.exec(text.trim());
  const shown = JSON.stringify(text);
  if (!match || text.trim() === '') {
    throw new FleetError('INPUT_INVALID', `ttl ${shown} is not a duration: write it like 30m, 2h, 1h30m (at most 8h)`);
  }
  const [, h, m, s] = match;
  const ms = (Number(h ?? 0) * 3600 + Number(m ?? 0) * 60 + Number(s ?? 0)) * 1000;
  if (ms > MAX_SUPPORT_TTL_MS)
    throw new FleetError(
      'INPUT_INVALID',
      `ttl ${shown} is longer than 8h: support access is time-boxed to at most 8 hours; grant again when it ends`,
    );
  if (ms < MIN_SUPPORT_TTL_MS) throw new FleetError('INPUT_INVALID', `ttl ${shown} is shorter than 1 minute: give at least 1m`);
  return ms;
}

export function formatDuration(ms: number): string {
  const total = Math.round(ms / 1000);
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  return `${h > 0 ? `${h}h` : ''}${m > 0 ? `${m}m` : ''}${s > 0 || total === 0 ? `${s}s` : ''}`;
}
