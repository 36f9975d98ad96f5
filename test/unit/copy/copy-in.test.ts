import { PassThrough, Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describe, expect, test } from 'vitest';
import { CopyIn } from '../../../src/copy/copy-in.ts';

/** A stand-in for pg's connection: what is written to its socket, and the CopyFail messages sent. */
function fakeConnection() {
  const stream = new PassThrough();
  const written: Buffer[] = [];
  stream.on('data', (chunk: Buffer) => written.push(chunk));
  const failures: string[] = [];
  return { connection: { stream, query: () => undefined, sendCopyFail: (m: string) => failures.push(m) }, written, failures };
}

const frame = (text: string) => {
  const head = Buffer.from([0x64, 0, 0, 0, 0]);
  head.writeInt32BE(Buffer.byteLength(text) + 4, 1);
  return Buffer.concat([head, Buffer.from(text)]);
};

describe('CopyIn', () => {
  test('writes the messages as they are once the server asks for them, then CopyDone; finishes at ReadyForQuery', async () => {
    const { connection, written } = fakeConnection();
    const into = new CopyIn('COPY t FROM STDIN');
    into.submit(connection);
    const frames = [frame('one\n'), frame('two\n')];
    const done = pipeline(Readable.from(frames), into);
    await new Promise((resolve) => setImmediate(resolve));
    expect(written).toEqual([]);
    into.handleCopyInResponse();
    await new Promise((resolve) => setImmediate(resolve));
    expect(Buffer.concat(written).equals(Buffer.concat([...frames, Buffer.from([0x63, 0, 0, 0, 4])]))).toBe(true);
    into.handleCommandComplete({ text: 'COPY 2' });
    into.handleReadyForQuery();
    await done;
    expect(into.rows).toBe(2);
  });

  test('abandoned in the middle: CopyFail once the server is ready, and the stream ends with the server error', async () => {
    const { connection, failures } = fakeConnection();
    const into = new CopyIn('COPY t FROM STDIN');
    into.submit(connection);
    into.handleCopyInResponse();
    into.write(frame('one\n'));
    const closed = new Promise<Error | undefined>((resolve) => into.on('error', resolve));
    into.destroy(new Error('the source failed'));
    await new Promise((resolve) => setImmediate(resolve));
    expect(failures).toEqual(['the source failed']);
    into.handleError(new Error('COPY from stdin failed: the source failed'));
    expect((await closed)?.message).toMatch(/the source failed/);
  });

  test('a server error while rows are written ends the stream with it; nothing more is sent', async () => {
    const { connection, failures, written } = fakeConnection();
    const into = new CopyIn('COPY t FROM STDIN');
    into.submit(connection);
    into.handleCopyInResponse();
    const closed = new Promise<Error | undefined>((resolve) => into.on('error', resolve));
    into.handleError(new Error('entry 20001 refused'));
    expect((await closed)?.message).toBe('entry 20001 refused');
    expect(failures).toEqual([]);
    expect(written).toEqual([]);
  });
});
