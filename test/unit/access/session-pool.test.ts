import { EventEmitter } from 'node:events';
import fc from 'fast-check';
import type pg from 'pg';
import { describe, expect, test } from 'vitest';
import { SessionPool } from '../../../src/access/session-pool.ts';

/** A stand-in for pg.Client: the pool only opens, ends and listens to its clients. */
class FakeClient extends EventEmitter {
  ended = false;
  constructor(
    readonly tenant: string,
    readonly n: number,
  ) {
    super();
  }
  async end(): Promise<void> {
    await new Promise((resolve) => setImmediate(resolve));
    this.ended = true;
  }
}

function pool(max: number) {
  const opened: FakeClient[] = [];
  const p = new SessionPool({
    max,
    idleTimeoutMs: 60_000,
    open: async (tenant) => {
      await new Promise((resolve) => setImmediate(resolve));
      const c = new FakeClient(tenant, opened.length);
      opened.push(c);
      return c as unknown as pg.Client;
    },
  });
  const live = () => opened.filter((c) => !c.ended).length;
  return { p, opened, live };
}

describe('SessionPool', () => {
  test('reuses a tenant idle connection; evicts the least recently used idle one at the cap', async () => {
    const { p, opened } = pool(2);
    const a = await p.acquire('a');
    expect(a.warm).toBe(false);
    p.release('a', a.client);
    const b = await p.acquire('b');
    p.release('b', b.client);
    const again = await p.acquire('a');
    expect(again).toEqual({ client: a.client, warm: true });
    p.release('a', again.client);
    // b is now the least recently used: c takes its slot.
    const c = await p.acquire('c');
    expect(opened[1]!.ended).toBe(true);
    expect(opened[0]!.ended).toBe(false);
    p.release('c', c.client);
    expect(p.stats()).toMatchObject({ open: 2, idle: 2, warmTenants: 2 });
    await p.close();
    expect(opened.every((x) => x.ended)).toBe(true);
  });

  test('at the cap with nothing idle, callers of other tenants wait in order; a release hands over its slot', async () => {
    const { p, live } = pool(1);
    const a = await p.acquire('a');
    const waitingB = p.acquire('b');
    const waitingC = p.acquire('c');
    expect(p.stats().waiting).toBe(2);
    p.release('a', a.client);
    const b = await waitingB;
    expect((b.client as unknown as FakeClient).tenant).toBe('b');
    expect(live()).toBe(1);
    p.release('b', b.client);
    const c = await waitingC;
    expect((c.client as unknown as FakeClient).tenant).toBe('c');
    p.release('c', c.client, true);
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect(p.stats()).toMatchObject({ open: 0, idle: 0, waiting: 0 });
    await p.close();
  });

  test('a released connection goes to a waiter of its own tenant first, but passes over no waiter more than four times', async () => {
    const { p } = pool(1);
    const first = await p.acquire('a');
    const client = first.client;
    const order: string[] = [];
    const waitingB = p.acquire('b').then((r) => {
      order.push('b');
      return r;
    });
    const waitingA = Array.from({ length: 6 }, (_, i) =>
      p.acquire('a').then((r) => {
        order.push(`a${i}`);
        return r;
      }),
    );
    // Each 'a' release skips b (no move needed) until b has been passed over four times.
    p.release('a', client);
    for (let i = 0; i < 4; i += 1) p.release('a', (await waitingA[i]!).client);
    const b = await waitingB;
    expect(order).toEqual(['a0', 'a1', 'a2', 'a3', 'b']);
    // b's tenant differs: the connection that reaches it is a new one in the freed slot.
    expect((b.client as unknown as FakeClient).tenant).toBe('b');
    p.release('b', b.client);
    p.release('a', (await waitingA[4]!).client);
    p.release('a', (await waitingA[5]!).client);
    expect(order).toEqual(['a0', 'a1', 'a2', 'a3', 'b', 'a4', 'a5']);
    await p.close();
  });

  test('at the cap, the idle connection given up is that of the tenant that asked least often lately, not merely the least recently used', async () => {
    const { p, opened } = pool(2);
    for (let i = 0; i < 5; i += 1) {
      const a = await p.acquire('a');
      p.release('a', a.client);
    }
    const b = await p.acquire('b');
    p.release('b', b.client);
    // a's connection is the least recently used, but a asked five times and b once: b's goes.
    const c = await p.acquire('c');
    expect((opened[1] as FakeClient).tenant).toBe('b');
    expect(opened[1]!.ended).toBe(true);
    expect(opened[0]!.ended).toBe(false);
    p.release('c', c.client);
    expect(p.stats()).toMatchObject({ acquired: 7, opened: 3, moved: 0 });
    await p.close();
  });

  test('a failed open frees its slot; a broken idle connection is dropped', async () => {
    let fail = true;
    const p = new SessionPool({
      max: 1,
      idleTimeoutMs: 60_000,
      open: async (tenant) => {
        if (fail) throw new Error('no');
        return new FakeClient(tenant, 0) as unknown as pg.Client;
      },
    });
    await expect(p.acquire('a')).rejects.toThrow('no');
    expect(p.stats().open).toBe(0);
    fail = false;
    const a = await p.acquire('a');
    p.release('a', a.client);
    (a.client as unknown as FakeClient).emit('error', new Error('terminated'));
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect(p.stats()).toMatchObject({ open: 0, idle: 0 });
    await p.close();
  });

  test('property: whatever the interleaving, never more live connections than the cap, every unit served by its own tenant', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 4 }),
        fc.array(fc.tuple(fc.constantFrom('a', 'b', 'c', 'd', 'e'), fc.integer({ min: 0, max: 3 }), fc.boolean()), {
          minLength: 1,
          maxLength: 40,
        }),
        async (max, units) => {
          const { p, live } = pool(max);
          let peak = 0;
          await Promise.all(
            units.map(async ([tenant, ticks, discard]) => {
              const { client } = await p.acquire(tenant);
              peak = Math.max(peak, live());
              expect((client as unknown as FakeClient).tenant).toBe(tenant);
              expect((client as unknown as FakeClient).ended).toBe(false);
              for (let i = 0; i < ticks; i += 1) await new Promise((resolve) => setImmediate(resolve));
              p.release(tenant, client, discard);
            }),
          );
          expect(peak).toBeLessThanOrEqual(max);
          expect(p.stats().waiting).toBe(0);
          await p.close();
        },
      ),
      { numRuns: 200 },
    );
  });
});
