import { Readable, type Duplex } from 'node:stream';
import type pg from 'pg';

const COPY_DATA = 0x64; // d
const COPY_DONE = 0x63; // c
const ERROR_RESPONSE = 0x45; // E

/** What pg hands a query object it submits: the connection with its socket. */
interface PgConnection {
  readonly stream: Duplex;
  query(text: string): void;
}

/**
 * `COPY ... TO STDOUT`, read off the connection's socket (taken from pg for the COPY, as
 * pg-copy-streams does, and given back with what follows). Two outputs:
 *
 * - `frames`: the CopyData messages as they came, headers included, each chunk whole messages
 *   only. They are what a target's COPY FROM STDIN takes (copy-in.ts), so a relay passes them on
 *   without taking them apart; PostgreSQL sends one CopyData message per row, so hashing the
 *   frames hashes the rows, each with its length.
 * - `rows`: the messages' contents (the COPY text or binary format), for a reader of the rows.
 *
 * pg-copy-streams cuts a buffer out of every message (800,000 of them for 800,000 rows), then
 * concatenates them again; here a socket read becomes one slice of itself (or one copy).
 *
 * `rows` counts the rows from the server's own command tag (`COPY n`); `done` settles when the
 * connection has been given back. Destroyed before the COPY ends (the target failed in the middle
 * of a table), it reads the rest of the COPY and throws it away, so the connection comes back and
 * the transaction can be rolled back: a COPY left half read holds its connection forever.
 */
export class CopyOut extends Readable {
  /** Rows the server says it sent (its CommandComplete); set once `done` resolves. */
  rows = 0;
  readonly done: Promise<void>;
  private settle: { resolve: () => void; reject: (error: Error) => void } | undefined;
  private connection: PgConnection | undefined;
  private pgDataHandler: ((chunk: Buffer) => void) | undefined;
  /** The start of a message not complete yet, from earlier reads. */
  private carry: Buffer[] = [];
  private carrySize = 0;
  private wanted = true;
  private draining = false;
  private forwarding = false;
  /** The socket is pg's again. */
  private detached = false;

  constructor(
    private readonly text: string,
    private readonly output: 'frames' | 'rows',
    options?: { highWaterMark?: number },
  ) {
    super(options);
    this.done = new Promise((resolve, reject) => (this.settle = { resolve, reject }));
    this.done.catch(() => undefined);
  }

  /** Called by pg when the query's turn comes on its connection. */
  submit(connection: PgConnection): void {
    this.connection = connection;
    const socket = connection.stream;
    const listeners = socket.listeners('data') as ((chunk: Buffer) => void)[];
    if (listeners.length !== 1) throw new Error('the pg connection has an unexpected number of data listeners');
    this.pgDataHandler = listeners[0];
    socket.removeListener('data', this.pgDataHandler as (chunk: Buffer) => void);
    socket.pause();
    socket.on('readable', this.onReadable);
    connection.query(this.text);
  }

  private readonly onReadable = () => this.forward();

  override _read(): void {
    this.wanted = true;
    this.forward();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    if (this.connection && !this.detached) {
      this.draining = true;
      this.forward();
    }
    callback(error);
  }

  private forward(): void {
    if (this.forwarding || this.detached || !this.connection || !(this.wanted || this.draining)) return;
    this.forwarding = true;
    const socket = this.connection.stream;
    let chunk: Buffer | null;
    while ((this.wanted || this.draining) && !this.detached && (chunk = socket.read() as Buffer | null) !== null) this.parse(chunk);
    this.forwarding = false;
  }

  private parse(input: Buffer): void {
    let chunk = input;
    let pos = 0;
    if (this.carrySize > 0) {
      // A message that began in an earlier read: completed by the head of this one (or carried
      // on); concatenated once whole, so a large row spanning many reads is copied once.
      const need = this.needed(chunk);
      if (need > chunk.length) {
        this.carry.push(chunk);
        this.carrySize += chunk.length;
        return;
      }
      const message = Buffer.concat([...this.carry, chunk.subarray(0, need)], this.carrySize + need);
      this.carry = [];
      this.carrySize = 0;
      if (message[0] === COPY_DATA) {
        this.pass(message, 0, message.length);
        pos = need;
      } else {
        // Not a row (CopyDone, an error, a notice): rare, read with the rest as one buffer.
        chunk = Buffer.concat([message, chunk.subarray(need)]);
      }
    }
    let run = pos;
    while (chunk.length - pos >= 5) {
      const code = chunk[pos] as number;
      const end = pos + 1 + chunk.readUInt32BE(pos + 1);
      if (code === COPY_DATA) {
        if (end > chunk.length) break;
        pos = end;
        continue;
      }
      if (code === ERROR_RESPONSE) {
        this.pass(chunk, run, pos);
        // pg reads the error (and what follows) itself: handleError is called.
        this.detach(chunk.subarray(pos));
        return;
      }
      if (end > chunk.length) break;
      this.pass(chunk, run, pos);
      pos = end;
      run = pos;
      if (code === COPY_DONE) {
        // What follows (CommandComplete, ReadyForQuery) is pg's.
        this.detach(chunk.subarray(pos));
        if (!this.draining) this.push(null);
        return;
      }
      // CopyOutResponse first, and a NoticeResponse or ParameterStatus between rows: skipped.
    }
    this.pass(chunk, run, pos);
    if (pos < chunk.length) {
      this.carry = [chunk.subarray(pos)];
      this.carrySize = chunk.length - pos;
    }
  }

  /** Bytes of chunk that complete the carried message (more than chunk.length: not yet). */
  private needed(chunk: Buffer): number {
    const head =
      this.carrySize >= 5
        ? Buffer.concat(this.carry, 5)
        : this.carrySize + chunk.length >= 5
          ? Buffer.concat([...this.carry, chunk], 5)
          : undefined;
    if (!head) return chunk.length + 1;
    return 1 + head.readUInt32BE(1) - this.carrySize;
  }

  /** Pass on the CopyData messages in chunk[start, end). */
  private pass(chunk: Buffer, start: number, end: number): void {
    if (end <= start || this.draining) return;
    const frames = chunk.subarray(start, end);
    if (!this.push(this.output === 'frames' ? frames : contents(frames))) this.wanted = false;
  }

  /** Give the socket back to pg with what it has not read yet. */
  private detach(rest: Buffer): void {
    this.detached = true;
    const socket = (this.connection as PgConnection).stream;
    socket.removeListener('readable', this.onReadable);
    const handler = this.pgDataHandler as (chunk: Buffer) => void;
    socket.on('data', handler);
    if (rest.length > 0) handler(rest);
    // pg's handler may have paused the socket while it ran; resume once it has returned.
    process.nextTick(() => socket.resume());
  }

  /** Called by pg: the server refused the COPY or failed during it, or the connection broke. */
  handleError(error: Error): void {
    if (!this.detached) {
      this.detached = true;
      this.connection?.stream.removeListener('readable', this.onReadable);
    }
    this.callback();
    this.settle?.reject(error);
    this.destroy(error);
  }

  handleCommandComplete(message: { text?: string } | undefined): void {
    const count = /^COPY (\d+)/.exec(message?.text ?? '');
    if (count) this.rows = Number(count[1]);
  }

  handleReadyForQuery(): void {
    this.callback();
    this.settle?.resolve();
  }

  /** pg wraps this when a query_timeout is configured; called at the end so its timer stops. */
  callback(): void {}
}

/** The contents of whole CopyData messages, copied together. */
function contents(frames: Buffer): Buffer {
  const out = Buffer.allocUnsafe(frames.length);
  let used = 0;
  for (let pos = 0; pos < frames.length;) {
    const end = pos + 1 + frames.readUInt32BE(pos + 1);
    used += frames.copy(out, used, pos + 5, end);
    pos = end;
  }
  return out.subarray(0, used);
}

/** Run `COPY ... TO STDOUT` on client as a CopyOut stream. */
export function copyOut(client: pg.ClientBase, text: string, output: 'frames' | 'rows', options?: { highWaterMark?: number }): CopyOut {
  return client.query(new CopyOut(text, output, options) as unknown as pg.Submittable) as unknown as CopyOut;
}
