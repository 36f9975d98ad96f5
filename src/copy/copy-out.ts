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
 * `COPY ... TO STDOUT` as a stream of the rows' bytes (the contents of the CopyData messages, in
 * order), one buffer per socket read: each read's rows are copied once into a buffer of its size,
 * where pg-copy-streams cuts a buffer out of every row (800,000 of them for 800,000 rows) and
 * concatenates them again.
 *
 * It takes the connection's socket from pg for the COPY, as pg-copy-streams does, and gives it
 * back, with what follows the COPY (or the error), when the server ends it. Destroyed before
 * that (the target failed in the middle of a table), it reads the rest of the COPY and throws it
 * away, so the connection comes back and the transaction can be rolled back: a COPY left half
 * read holds the connection forever.
 */
export class CopyOut extends Readable {
  private connection: PgConnection | undefined;
  private pgDataHandler: ((chunk: Buffer) => void) | undefined;
  /** Bytes still to come of the current CopyData message, or of another message being skipped. */
  private dataLeft = 0;
  private skipLeft = 0;
  /** A message header split across two socket reads. */
  private header: number[] = [];
  private wanted = true;
  private draining = false;
  private forwarding = false;
  /** The socket is pg's again. */
  private detached = false;

  constructor(
    private readonly text: string,
    options?: { highWaterMark?: number },
  ) {
    super(options);
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

  private parse(chunk: Buffer): void {
    // The rows' bytes of this read, copied together: never more than the read itself.
    const out = this.draining ? undefined : Buffer.allocUnsafe(chunk.length);
    let used = 0;
    let pos = 0;
    while (pos < chunk.length) {
      if (this.dataLeft > 0) {
        const n = Math.min(this.dataLeft, chunk.length - pos);
        if (out) chunk.copy(out, used, pos, pos + n);
        used += n;
        pos += n;
        this.dataLeft -= n;
        continue;
      }
      if (this.skipLeft > 0) {
        const n = Math.min(this.skipLeft, chunk.length - pos);
        pos += n;
        this.skipLeft -= n;
        continue;
      }
      // A message header: read in place, or gathered when a read ends inside it.
      const start = pos;
      let code: number;
      let body: number;
      const carried = this.header;
      if (carried.length === 0 && pos + 5 <= chunk.length) {
        code = chunk[pos] as number;
        body = chunk.readInt32BE(pos + 1) - 4;
        pos += 5;
      } else {
        while (carried.length < 5 && pos < chunk.length) carried.push(chunk[pos++] as number);
        if (carried.length < 5) break;
        this.header = [];
        const header = Buffer.from(carried);
        code = header[0] as number;
        body = header.readInt32BE(1) - 4;
      }
      if (code === COPY_DATA) {
        this.dataLeft = body;
      } else if (code === ERROR_RESPONSE || code === COPY_DONE) {
        this.pushRows(out, used);
        // pg reads the rest itself: the error (its handleError is called), or CopyDone's
        // CommandComplete and ReadyForQuery. An error's header bytes from the last read go first.
        const rest =
          code === ERROR_RESPONSE
            ? Buffer.concat([Buffer.from(carried.slice(0, 5 - (pos - start))), chunk.subarray(start)])
            : chunk.subarray(pos);
        this.detach(rest);
        if (code === COPY_DONE && !this.draining) this.push(null);
        return;
      } else {
        // CopyOutResponse first, and a NoticeResponse or ParameterStatus between rows.
        this.skipLeft = body;
      }
    }
    this.pushRows(out, used);
  }

  private pushRows(out: Buffer | undefined, used: number): void {
    if (out && used > 0 && !this.push(out.subarray(0, used))) this.wanted = false;
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
    this.destroy(error);
  }

  handleCommandComplete(): void {}

  handleReadyForQuery(): void {
    this.callback();
  }

  /** pg wraps this when a query_timeout is configured; called at the end so its timer stops. */
  callback(): void {}
}

/** Run `COPY ... TO STDOUT` on client as a CopyOut stream. */
export function copyOut(client: pg.ClientBase, text: string, options?: { highWaterMark?: number }): CopyOut {
  return client.query(new CopyOut(text, options) as unknown as pg.Submittable) as unknown as CopyOut;
}
