import { Writable, type Duplex } from 'node:stream';
import type pg from 'pg';

const COPY_DONE_MESSAGE = Buffer.from([0x63, 0, 0, 0, 4]); // c, length 4

/** What pg hands a query object it submits: the connection with its socket. */
interface PgConnection {
  readonly stream: Duplex;
  query(text: string): void;
  sendCopyFail(message: string): void;
}

/**
 * `COPY ... FROM STDIN` fed whole CopyData messages (CopyOut's `frames`), written to the socket
 * as they came: no message is taken apart or framed again. Ends with CopyDone; destroyed before
 * that, it sends CopyFail and the server rolls the COPY back. Every chunk written is whole
 * messages, so a CopyFail never lands in the middle of one.
 */
export class CopyIn extends Writable {
  /** Rows the server says it took (its CommandComplete). */
  rows = 0;
  private connection: PgConnection | undefined;
  private ready = false;
  private pending: (() => void) | undefined;
  /** The server has ended this COPY (done or failed): nothing more is sent for it. */
  private settled = false;
  private finalCallback: ((error?: Error | null) => void) | undefined;
  private destroyCallback: ((error?: Error | null) => void) | undefined;

  constructor(
    private readonly text: string,
    options?: { highWaterMark?: number },
  ) {
    super(options);
  }

  /** Called by pg when the query's turn comes on its connection. */
  submit(connection: PgConnection): void {
    this.connection = connection;
    connection.query(this.text);
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.whenReady(() => {
      if (this.settled) return callback();
      const socket = (this.connection as PgConnection).stream;
      if (socket.write(chunk)) callback();
      else socket.once('drain', () => callback());
    });
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.finalCallback = callback;
    this.whenReady(() => {
      if (!this.settled) (this.connection as PgConnection).stream.write(COPY_DONE_MESSAGE);
    });
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    // Ended by the server, or finishing (CopyDone sent): nothing to abandon.
    if (this.settled || this.finalCallback) return callback(error);
    // Called back when the server has answered the CopyFail (handleError); a COPY not started yet
    // is failed as soon as the server asks for its rows.
    this.destroyCallback = callback;
    const message = error?.message ?? 'the copy was abandoned';
    this.whenReady(() => (this.connection as PgConnection).sendCopyFail(message));
  }

  private whenReady(fn: () => void): void {
    if (this.ready) fn();
    else this.pending = fn;
  }

  /** Called by pg: the server is ready for the rows. */
  handleCopyInResponse(): void {
    this.ready = true;
    const fn = this.pending;
    this.pending = undefined;
    fn?.();
  }

  /** Called by pg: the server refused the COPY, failed it, or answered our CopyFail. */
  handleError(error: Error): void {
    this.settled = true;
    this.callback();
    const callback = this.destroyCallback ?? this.finalCallback;
    this.destroyCallback = undefined;
    this.finalCallback = undefined;
    if (callback) callback(error);
    else this.destroy(error);
  }

  handleCommandComplete(message: { text?: string } | undefined): void {
    const count = /^COPY (\d+)/.exec(message?.text ?? '');
    if (count) this.rows = Number(count[1]);
  }

  /** The rows are in and the connection takes the next query: the stream finishes now. */
  handleReadyForQuery(): void {
    this.settled = true;
    this.callback();
    const callback = this.finalCallback;
    this.finalCallback = undefined;
    callback?.();
  }

  /** pg wraps this when a query_timeout is configured; called at the end so its timer stops. */
  callback(): void {}
}

/** Run `COPY ... FROM STDIN` on client as a CopyIn stream. */
export function copyIn(client: pg.ClientBase, text: string, options?: { highWaterMark?: number }): CopyIn {
  return client.query(new CopyIn(text, options) as unknown as pg.Submittable) as unknown as CopyIn;
}
