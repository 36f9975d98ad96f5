import { PassThrough } from 'node:stream';
import { describe, expect, test } from 'vitest';
import fc from 'fast-check';
import { CopyOut } from '../../../src/copy/copy-out.ts';

/** A protocol message: a type byte, then a 32-bit length counting itself and the body. */
function message(type: string, body: Buffer = Buffer.alloc(0)): Buffer {
  const head = Buffer.alloc(5);
  head.write(type, 0, 'latin1');
  head.writeInt32BE(body.length + 4, 1);
  return Buffer.concat([head, body]);
}

const COPY_OUT_RESPONSE = message('H', Buffer.from([0, 0, 0]));
const rowsOf = (n: number) => Buffer.concat([message('C', Buffer.from(`COPY ${n}\0`, 'latin1')), message('Z', Buffer.from('I', 'latin1'))]);
const NOTICE = message('N', Buffer.from('Mnotice\0\0', 'latin1'));
const AFTER = rowsOf(3);
const ERROR = message('E', Buffer.from('SERROR\0Mboom\0\0', 'latin1'));

/**
 * A stand-in for pg's connection: its socket (a PassThrough the test writes the server's bytes
 * into, cut where the test says) with pg's own data listener, which records what it is given back
 * and, like pg, hands the query its CommandComplete and ReadyForQuery.
 */
function fakeConnection(query: () => CopyOut) {
  const stream = new PassThrough();
  const toPg: Buffer[] = [];
  stream.on('data', (chunk: Buffer) => {
    toPg.push(chunk);
    const all = Buffer.concat(toPg);
    const tag = /COPY (\d+)/.exec(all.toString('latin1'));
    if (tag && all.includes(Buffer.from('Z'))) {
      query().handleCommandComplete({ text: tag[0] });
      query().handleReadyForQuery();
    }
  });
  return { connection: { stream, query: () => undefined }, toPg };
}

async function run(
  bytes: Buffer,
  cuts: readonly number[],
  output: 'frames' | 'rows' = 'rows',
): Promise<{ rows: Buffer; toPg: Buffer; error?: Error; count: number }> {
  const out: CopyOut = new CopyOut('COPY t TO STDOUT', output);
  const { connection, toPg } = fakeConnection(() => out);
  out.submit(connection);
  const chunks: Buffer[] = [];
  out.on('data', (c: Buffer) => chunks.push(c));
  const ended = new Promise<Error | undefined>((resolve) => {
    out.on('end', () => resolve(undefined));
    out.on('error', (e) => resolve(e));
  });
  let from = 0;
  for (const cut of [...new Set(cuts)].filter((c) => c > 0 && c < bytes.length).sort((a, b) => a - b)) {
    connection.stream.write(bytes.subarray(from, cut));
    from = cut;
    await new Promise((resolve) => setImmediate(resolve));
  }
  connection.stream.write(bytes.subarray(from));
  const error = await Promise.race([ended, new Promise<Error | undefined>((resolve) => setTimeout(() => resolve(undefined), 50))]);
  await new Promise((resolve) => setImmediate(resolve));
  return { rows: Buffer.concat(chunks), toPg: Buffer.concat(toPg), ...(error ? { error } : {}), count: out.rows };
}

const rowArb = fc.uint8Array({ maxLength: 300 }).map((a) => Buffer.from(a));

describe('CopyOut', () => {
  test('passes on the CopyData messages (or their rows), whatever the reads, and gives pg what follows CopyDone', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(rowArb, { maxLength: 20 }),
        fc.array(fc.nat(), { maxLength: 15 }),
        fc.nat(20),
        async (rows, cutSeeds, noticeAt) => {
          const messages = rows.map((r) => message('d', r));
          messages.splice(Math.min(noticeAt, messages.length), 0, NOTICE);
          const bytes = Buffer.concat([COPY_OUT_RESPONSE, ...messages, message('c'), AFTER]);
          const result = await run(
            bytes,
            cutSeeds.map((n) => n % bytes.length),
          );
          expect(result.error).toBeUndefined();
          expect(result.rows.equals(Buffer.concat(rows))).toBe(true);
          expect(result.toPg.equals(AFTER)).toBe(true);
        },
      ),
      { numRuns: 60 },
    );
  });

  test('an error in the middle goes to pg whole, with the rows before it passed on', async () => {
    const rows = [Buffer.from('one'), Buffer.from('two')];
    const bytes = Buffer.concat([COPY_OUT_RESPONSE, ...rows.map((r) => message('d', r)), ERROR, message('Z', Buffer.from('E', 'latin1'))]);
    const errorAt = COPY_OUT_RESPONSE.length + rows.reduce((n, r) => n + 5 + r.length, 0);
    for (const cut of [errorAt + 1, errorAt + 3, errorAt + 7]) {
      const result = await run(bytes, [cut]);
      expect(result.rows.toString()).toBe('onetwo');
      expect(result.toPg.equals(bytes.subarray(errorAt))).toBe(true);
    }
  });

  test('destroyed in the middle, it reads the rest of the COPY and gives the connection back', async () => {
    const out: CopyOut = new CopyOut('COPY t TO STDOUT', 'frames');
    const { connection, toPg } = fakeConnection(() => out);
    out.submit(connection);
    out.on('error', () => undefined);
    connection.stream.write(Buffer.concat([COPY_OUT_RESPONSE, message('d', Buffer.from('first'))]));
    await new Promise((resolve) => setImmediate(resolve));
    out.destroy(new Error('the target failed'));
    connection.stream.write(
      Buffer.concat([message('d', Buffer.alloc(100_000, 1)), message('d', Buffer.from('last')), message('c'), AFTER]),
    );
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(Buffer.concat(toPg).equals(AFTER)).toBe(true);
    await out.done;
  });
});
