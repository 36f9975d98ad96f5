import { createHash, type Hash } from 'node:crypto';

/** The 11-byte signature and the 32-bit flags field that open a binary COPY stream (the header extension's length follows). */
const BINARY_SIGNATURE_AND_FLAGS = 15;

/**
 * SHA-256 and row count of a COPY TO STDOUT stream (the bytes of its CopyData messages, in order),
 * fed chunk by chunk in constant memory. Rows are counted from the format itself: in text format
 * every row ends with a newline (a newline inside a value is written as `\n`); in binary format
 * the stream is a header, then per row a 16-bit field count and each field's 32-bit length and
 * bytes, then a field count of -1.
 */
export class CopyDigest {
  private readonly hash: Hash = createHash('sha256');
  private count = 0;
  // Binary parsing state: bytes still to skip (the header, a field's data), whether the header
  // extension's length comes next, the fields left in the row, and the bytes of a length or field
  // count split across two chunks.
  private skip = BINARY_SIGNATURE_AND_FLAGS;
  private headerExtension = true;
  private fieldsLeft = 0;
  private partial: number[] = [];
  private ended = false;

  constructor(private readonly binary: boolean) {}

  update(chunk: Buffer): void {
    this.hash.update(chunk);
    if (this.binary) this.countBinary(chunk);
    else for (let at = chunk.indexOf(10); at !== -1; at = chunk.indexOf(10, at + 1)) this.count += 1;
  }

  /** The row count and the hex SHA-256 of everything fed. */
  digest(): { rows: number; checksum: string } {
    return { rows: this.count, checksum: this.hash.digest('hex') };
  }

  private countBinary(chunk: Buffer): void {
    let pos = 0;
    while (pos < chunk.length && !this.ended) {
      if (this.skip === 0 && this.fieldsLeft === 0 && this.partial.length === 0 && !this.headerExtension) {
        pos = this.wholeRows(chunk, pos);
        if (this.ended || pos >= chunk.length) return;
      }
      if (this.skip > 0) {
        const n = Math.min(this.skip, chunk.length - pos);
        this.skip -= n;
        pos += n;
        continue;
      }
      // Next: the header extension's length (4 bytes), a field length (4) or a field count (2).
      const size = this.headerExtension || this.fieldsLeft > 0 ? 4 : 2;
      let value: number;
      if (this.partial.length === 0 && pos + size <= chunk.length) {
        value = size === 4 ? chunk.readInt32BE(pos) : chunk.readInt16BE(pos);
        pos += size;
      } else {
        // Split across two chunks: kept byte by byte until whole.
        while (this.partial.length < size && pos < chunk.length) this.partial.push(chunk[pos++] as number);
        if (this.partial.length < size) return;
        const bytes = Buffer.from(this.partial);
        this.partial = [];
        value = size === 4 ? bytes.readInt32BE(0) : bytes.readInt16BE(0);
      }
      if (this.headerExtension) {
        this.headerExtension = false;
        this.skip = value;
      } else if (this.fieldsLeft > 0) {
        this.fieldsLeft -= 1;
        if (value > 0) this.skip = value;
      } else if (value === -1) {
        this.ended = true;
      } else {
        this.count += 1;
        this.fieldsLeft = value;
      }
    }
  }

  /**
   * The rows that lie whole in chunk from pos (at a row's start), counted without the state the
   * general path keeps; returns where the first incomplete row starts (or the end).
   */
  private wholeRows(chunk: Buffer, from: number): number {
    let pos = from;
    while (pos + 2 <= chunk.length) {
      const fields = chunk.readInt16BE(pos);
      if (fields === -1) {
        this.ended = true;
        return pos + 2;
      }
      let at = pos + 2;
      let complete = true;
      for (let i = 0; i < fields; i += 1) {
        if (at + 4 > chunk.length) {
          complete = false;
          break;
        }
        const length = chunk.readInt32BE(at);
        at += 4 + (length > 0 ? length : 0);
      }
      if (!complete || at > chunk.length) return pos;
      this.count += 1;
      pos = at;
    }
    return pos;
  }
}
