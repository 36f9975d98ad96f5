import { createHash } from 'node:crypto';
import { describe, expect, test } from 'vitest';
import fc from 'fast-check';
import { CopyDigest } from '../../../src/copy/copy-digest.ts';

/** A binary COPY stream as PostgreSQL writes it: signature, flags, header extension, rows, trailer. */
function binaryCopy(rows: readonly (readonly (Buffer | null)[])[], extension = Buffer.alloc(0)): Buffer {
  const parts: Buffer[] = [Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1')];
  const int = (n: number, size: 2 | 4) => {
    const b = Buffer.alloc(size);
    if (size === 2) b.writeInt16BE(n);
    else b.writeInt32BE(n);
    return b;
  };
  parts.push(int(0, 4), int(extension.length, 4), extension);
  for (const row of rows) {
    parts.push(int(row.length, 2));
    for (const field of row) parts.push(field === null ? int(-1, 4) : Buffer.concat([int(field.length, 4), field]));
  }
  parts.push(int(-1, 2));
  return Buffer.concat(parts);
}

/** Feed bytes to a digest in chunks cut at the given offsets. */
function digestInChunks(binary: boolean, bytes: Buffer, cuts: readonly number[]): { rows: number; checksum: string } {
  const digest = new CopyDigest(binary);
  let from = 0;
  for (const cut of [...new Set(cuts)].sort((a, b) => a - b)) {
    digest.update(bytes.subarray(from, cut));
    from = cut;
  }
  digest.update(bytes.subarray(from));
  return digest.digest();
}

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

describe('CopyDigest', () => {
  test('binary: counts the rows however the stream is cut, and hashes every byte', () => {
    const field = fc.option(
      fc.uint8Array({ maxLength: 40 }).map((a) => Buffer.from(a)),
      { nil: null },
    );
    fc.assert(
      fc.property(
        fc.array(fc.array(field, { maxLength: 6 }), { maxLength: 30 }),
        fc.uint8Array({ maxLength: 8 }).map((a) => Buffer.from(a)),
        fc.array(fc.nat(), { maxLength: 12 }),
        (rows, extension, cutSeeds) => {
          const bytes = binaryCopy(rows, extension);
          const cuts = cutSeeds.map((n) => n % (bytes.length + 1));
          expect(digestInChunks(true, bytes, cuts)).toEqual({ rows: rows.length, checksum: sha256(bytes) });
        },
      ),
    );
  });

  test('binary: every single-byte cut of a small stream', () => {
    const bytes = binaryCopy([[Buffer.from('a'), null], [], [Buffer.alloc(300, 7)]]);
    for (let cut = 0; cut <= bytes.length; cut += 1) expect(digestInChunks(true, bytes, [cut]).rows).toBe(3);
    expect(
      digestInChunks(
        true,
        bytes,
        Array.from({ length: bytes.length }, (_, i) => i),
      ).rows,
    ).toBe(3);
  });

  test('text: one row per newline (a newline in a value is written as \\n)', () => {
    const bytes = Buffer.from('1\tfirst\\nline\n2\t\\N\n3\tlast\n');
    expect(digestInChunks(false, bytes, [3, 9, 10])).toEqual({ rows: 3, checksum: sha256(bytes) });
    expect(new CopyDigest(false).digest()).toEqual({ rows: 0, checksum: sha256(Buffer.alloc(0)) });
  });
});
