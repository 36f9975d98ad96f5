import pg from 'pg';
import { FleetError } from '../errors.ts';

/**
 * Connections of one region's session roles: one login per tenant means one pool per tenant, and
 * all of them share a cap on open connections (`max`). Idle connections are kept per tenant; when
 * a tenant without one needs a connection and the cap is reached, an idle connection of another
 * tenant is closed (or, with gateways, moved) to make room: that of the tenant that asked least
 * often lately for each idle connection it has; when none is idle,
 * the caller waits for one to be released: in order, except that a released connection goes to a
 * waiter of its own tenant first (no move, no new login), passing over no waiter more than
 * MAX_SKIPS times. The cap is never exceeded: a slot is reserved before a connection is opened.
 * Idle connections close after `idleTimeoutMs`.
 */
export interface SessionPoolOptions {
  readonly max: number;
  readonly idleTimeoutMs: number;
  /** Open a new connection for a tenant (connect included). Throwing frees the slot. */
  readonly open: (tenant: string) => Promise<pg.Client>;
  /**
   * Gateway connections: move an idle connection of tenant `from` to `to` instead of closing it
   * and opening another. Throwing MoveRefused leaves it `from`'s (idle again); anything else
   * closes it.
   */
  readonly move?: (client: pg.Client, from: string, to: string) => Promise<void>;
}

/** A move refused before anything changed (e.g. an unknown tenant): the connection is still the previous tenant's. */
export class MoveRefused extends Error {
  constructor(readonly error: unknown) {
    super('move refused');
  }
}

export interface SessionPoolStats {
  /** Open connections (busy + idle + opening): never above max. */
  readonly open: number;
  readonly idle: number;
  readonly waiting: number;
  /** Tenants with at least one idle connection. */
  readonly warmTenants: number;
  /** Since the pool was made: connections handed out, connections opened, connections moved to another tenant. */
  readonly acquired: number;
  readonly opened: number;
  readonly moved: number;
}

interface Idle {
  readonly tenant: string;
  readonly client: pg.Client;
  readonly timer: NodeJS.Timeout;
}

type Grant = { kind: 'client'; client: pg.Client } | { kind: 'slot' } | { kind: 'move'; client: pg.Client; from: string };

interface Waiter {
  readonly tenant: string;
  /** Times a later waiter of the releasing tenant went first (bounded by MAX_SKIPS). */
  skipped: number;
  resolve(grant: Grant): void;
  reject(error: unknown): void;
}

const broken = new WeakSet<pg.Client>();

/**
 * A released connection goes to a waiter of its own tenant before older waiters of other tenants
 * (it needs no move then), but no waiter is passed over more than this many times.
 */
const MAX_SKIPS = 4;

/** How many recent acquisitions per connection the pool remembers to choose which idle connection to give up. */
const RECENT_PER_CONNECTION = 8;

export class SessionPool {
  readonly #options: SessionPoolOptions;
  #open = 0;
  /** Idle connections, least recently released first (Map keeps insertion order). */
  readonly #lru = new Map<pg.Client, Idle>();
  /** Idle connections per tenant, most recently released last. */
  readonly #byTenant = new Map<string, pg.Client[]>();
  readonly #waiters: Waiter[] = [];
  #closed = false;
  readonly #counts = { acquired: 0, opened: 0, moved: 0 };
  /** The tenants of the last RECENT_PER_CONNECTION * max acquisitions (a ring), and how often each occurs in it. */
  readonly #window: string[] = [];
  #windowAt = 0;
  readonly #recent = new Map<string, number>();

  constructor(options: SessionPoolOptions) {
    if (!Number.isInteger(options.max) || options.max < 1)
      throw new FleetError('CONFIG_INVALID', `maxConnections ${options.max} is not a positive integer`);
    this.#options = options;
  }

  stats(): SessionPoolStats {
    return { open: this.#open, idle: this.#lru.size, waiting: this.#waiters.length, warmTenants: this.#byTenant.size, ...this.#counts };
  }

  /** A connection logged in as this tenant's session role: warm when one is idle, else a new one. */
  async acquire(tenant: string): Promise<{ client: pg.Client; warm: boolean }> {
    if (this.#closed) throw new FleetError('REFUSED', 'this TenantAccess is closed: open another with openTenantAccess');
    this.#counts.acquired += 1;
    this.#remember(tenant);
    const warm = this.#takeIdle(tenant);
    if (warm) return { client: warm, warm: true };
    const grant = await this.#slot(tenant);
    if (grant.kind === 'client') return { client: grant.client, warm: true };
    if (grant.kind === 'move') {
      this.#counts.moved += 1;
      const moved = await this.#move(grant.client, grant.from, tenant);
      if (moved) return { client: moved, warm: false };
      // The connection was lost on the way: its slot is ours to open a new one.
    }
    try {
      this.#counts.opened += 1;
      const client = await this.#options.open(tenant);
      client.on('error', () => this.#onError(client));
      return { client, warm: false };
    } catch (error) {
      this.#free();
      throw error;
    }
  }

  /** Give a connection back; `discard` closes it (a connection in a state not to be reused). */
  release(tenant: string, client: pg.Client, discard = false): void {
    if (discard || this.#closed || broken.has(client)) {
      void this.#end(client).then(() => this.#free());
      return;
    }
    const waiter = this.#nextWaiter(tenant);
    if (waiter) {
      if (waiter.tenant === tenant) {
        waiter.resolve({ kind: 'client', client });
      } else if (this.#options.move) {
        waiter.resolve({ kind: 'move', client, from: tenant });
      } else {
        // The slot passes to the waiter (once this connection is closed), who opens one of its tenant.
        void this.#end(client).then(() => waiter.resolve({ kind: 'slot' }));
      }
      return;
    }
    const timer = setTimeout(() => this.#expire(client), this.#options.idleTimeoutMs);
    timer.unref();
    this.#lru.set(client, { tenant, client, timer });
    const list = this.#byTenant.get(tenant);
    if (list) list.push(client);
    else this.#byTenant.set(tenant, [client]);
  }

  /** Close idle connections now, refuse new work; busy connections close when released. */
  async close(): Promise<void> {
    this.#closed = true;
    for (const waiter of this.#waiters.splice(0))
      waiter.reject(new FleetError('REFUSED', 'this TenantAccess was closed while waiting for a connection'));
    const idle = [...this.#lru.values()];
    this.#lru.clear();
    this.#byTenant.clear();
    await Promise.all(
      idle.map(async (entry) => {
        clearTimeout(entry.timer);
        this.#open -= 1;
        await entry.client.end().catch(() => undefined);
      }),
    );
  }

  #takeIdle(tenant: string): pg.Client | undefined {
    const list = this.#byTenant.get(tenant);
    const client = list?.pop();
    if (!client) return undefined;
    if (list?.length === 0) this.#byTenant.delete(tenant);
    const entry = this.#lru.get(client);
    if (entry) clearTimeout(entry.timer);
    this.#lru.delete(client);
    return client;
  }

  /** Reserve room for a new connection: a free slot, else the LRU idle connection's, else wait. */
  #slot(tenant: string): Promise<Grant> {
    if (this.#open < this.#options.max) {
      this.#open += 1;
      return Promise.resolve({ kind: 'slot' });
    }
    const victim = this.#victim();
    if (victim && this.#options.move) {
      this.#removeIdle(victim);
      return Promise.resolve({ kind: 'move', client: victim.client, from: victim.tenant });
    }
    if (victim) {
      // Its slot is ours once the server has seen it close: the cap holds on the server too.
      this.#removeIdle(victim);
      return this.#end(victim.client).then(() => ({ kind: 'slot' }) as const);
    }
    return new Promise<Grant>((resolve, reject) => this.#waiters.push({ tenant, skipped: 0, resolve, reject }));
  }

  /**
   * The idle connection to give up for another tenant: the one whose tenant asked least often
   * lately for each idle connection it has, the least recently used among equals. Plain LRU
   * let one-off tenants push out the idle connection of a tenant that asks every few dozen units,
   * which then needed a move itself: under skewed load most units moved a connection.
   */
  #victim(): Idle | undefined {
    let best: Idle | undefined;
    let bestScore = Infinity;
    for (const entry of this.#lru.values()) {
      const score = (this.#recent.get(entry.tenant) ?? 0) / (this.#byTenant.get(entry.tenant)?.length ?? 1);
      if (score < bestScore) {
        best = entry;
        bestScore = score;
        if (score === 0) break;
      }
    }
    return best;
  }

  /** Count an acquisition in the window of recent ones. */
  #remember(tenant: string): void {
    const size = RECENT_PER_CONNECTION * this.#options.max;
    const dropped = this.#window[this.#windowAt];
    if (dropped !== undefined) {
      const n = (this.#recent.get(dropped) ?? 1) - 1;
      if (n > 0) this.#recent.set(dropped, n);
      else this.#recent.delete(dropped);
    }
    this.#window[this.#windowAt] = tenant;
    this.#windowAt = (this.#windowAt + 1) % size;
    this.#recent.set(tenant, (this.#recent.get(tenant) ?? 0) + 1);
  }

  /** Who gets a connection `tenant` released: its own tenant's first waiter, unless that passes over a waiter too often. */
  #nextWaiter(tenant: string): Waiter | undefined {
    const head = this.#waiters[0];
    if (!head || head.tenant === tenant || head.skipped >= MAX_SKIPS) return this.#waiters.shift();
    const i = this.#waiters.findIndex((w) => w.tenant === tenant);
    if (i < 0) return this.#waiters.shift();
    for (let k = 0; k < i; k += 1) (this.#waiters[k] as Waiter).skipped += 1;
    return this.#waiters.splice(i, 1)[0];
  }

  /**
   * Move a connection (its slot stays taken) to `tenant`. Refused: given back to `from`, and the
   * refusal thrown. Failed otherwise: closed, and undefined returned (the caller opens a new one
   * in the slot).
   */
  async #move(client: pg.Client, from: string, tenant: string): Promise<pg.Client | undefined> {
    try {
      if (!broken.has(client)) {
        await (this.#options.move as NonNullable<SessionPoolOptions['move']>)(client, from, tenant);
        if (!broken.has(client)) return client;
      }
    } catch (error) {
      if (!(error instanceof MoveRefused)) {
        await this.#end(client);
        return undefined;
      }
      if (broken.has(client)) {
        void this.#end(client).then(() => this.#free());
      } else {
        this.release(from, client);
      }
      throw error.error;
    }
    await this.#end(client);
    return undefined;
  }

  /** A slot became free: hand it to the first waiter, or give it back. */
  #free(): void {
    const waiter = this.#waiters.shift();
    if (waiter) waiter.resolve({ kind: 'slot' });
    else this.#open -= 1;
  }

  #removeIdle(entry: Idle): void {
    clearTimeout(entry.timer);
    this.#lru.delete(entry.client);
    const list = this.#byTenant.get(entry.tenant);
    if (!list) return;
    const i = list.indexOf(entry.client);
    if (i >= 0) list.splice(i, 1);
    if (list.length === 0) this.#byTenant.delete(entry.tenant);
  }

  #expire(client: pg.Client): void {
    const entry = this.#lru.get(client);
    if (!entry) return;
    this.#removeIdle(entry);
    void this.#end(client).then(() => this.#free());
  }

  #onError(client: pg.Client): void {
    broken.add(client);
    // Idle: gone now. Busy: discarded when released.
    this.#expire(client);
  }

  async #end(client: pg.Client): Promise<void> {
    await client.end().catch(() => undefined);
  }
}
