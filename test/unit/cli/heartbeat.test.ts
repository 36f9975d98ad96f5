import { afterEach, describe, expect, test, vi } from 'vitest';
import { heartbeatFor } from '../../../scripts/cli/output.ts';

afterEach(() => vi.useRealTimers());

const tenant = (status: 'applied' | 'failed') => ({
  type: 'tenant' as const,
  result: { tenant: 't', region: 'eu', schema: 't_t', status, migrations: [], durationMs: 1 },
});

describe('the heartbeat off a terminal', () => {
  test('a line per interval with progress, failures and rate; nothing before the run starts or after stop', () => {
    vi.useFakeTimers();
    const lines: string[] = [];
    const beat = heartbeatFor('migrate', 10_000, (line) => lines.push(line));
    vi.advanceTimersByTime(30_000);
    expect(lines).toEqual([]);
    beat.onEvent({ type: 'start', phase: 'rollout', tenants: 40 });
    for (let i = 0; i < 20; i += 1) beat.onEvent(tenant(i === 3 ? 'failed' : 'applied'));
    vi.advanceTimersByTime(10_000);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^fleet migrate: 20\/40 tenants, 1 failed, \d+\.\d tenants\/s, \d+ s elapsed\n$/);
    vi.advanceTimersByTime(10_000);
    expect(lines).toHaveLength(2);
    beat.stop();
    vi.advanceTimersByTime(60_000);
    expect(lines).toHaveLength(2);
  });

  test('a second phase (canaries, then the rollout) adds to the total', () => {
    vi.useFakeTimers();
    const lines: string[] = [];
    const beat = heartbeatFor('migrate', 1000, (line) => lines.push(line));
    beat.onEvent({ type: 'start', phase: 'canary', tenants: 2 });
    beat.onEvent(tenant('applied'));
    beat.onEvent(tenant('applied'));
    beat.onEvent({ type: 'start', phase: 'rollout', tenants: 8 });
    vi.advanceTimersByTime(1000);
    expect(lines[0]).toMatch(/^fleet migrate: 2\/10 tenants/);
    beat.stop();
  });
});
