import { Transform, type TransformCallback } from 'node:stream';

/**
 * COPY's text format doubles every backslash of a value and writes control characters as
 * escapes. A row_to_json() value has no raw control character (JSON escapes them), so its COPY
 * line is the JSON with each backslash doubled: halving them gives the JSON back exactly.
 */
export class CopyTextToJsonLines extends Transform {
  private pendingBackslash = false;

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    // Byte-wise: 0x5c never occurs inside a multi-byte UTF-8 sequence, so chunk edges are safe.
    const out = Buffer.allocUnsafe(chunk.length);
    let n = 0;
    for (const byte of chunk) {
      if (byte === 0x5c) {
        if (this.pendingBackslash) {
          this.pendingBackslash = false;
          continue;
        }
        this.pendingBackslash = true;
      } else this.pendingBackslash = false;
      out[n++] = byte;
    }
    callback(null, out.subarray(0, n));
  }
}
