import { describe, expect, test } from 'vitest';
import { secretBox } from '../../../src/atlassian/secret-box.ts';

const SECRET = 'unit-test-application-secret-0123456789abcdef';

describe('secretBox: AES-256-GCM under a key derived from the application secret', () => {
  test('what is sealed for a tenant opens for that tenant, and the box does not contain it', () => {
    const box = secretBox(SECRET);
    const sealed = box.seal('tenant-a', 'shared-secret-value');
    expect(sealed.includes(Buffer.from('shared-secret-value'))).toBe(false);
    expect(box.open('tenant-a', sealed)).toBe('shared-secret-value');
    // A fresh IV each time: the same secret never seals to the same bytes.
    expect(box.seal('tenant-a', 'shared-secret-value').equals(sealed)).toBe(false);
  });

  test('another tenant, another application secret or a flipped bit: refused', () => {
    const box = secretBox(SECRET);
    const sealed = box.seal('tenant-a', 'shared-secret-value');
    expect(() => box.open('tenant-b', sealed)).toThrow(/do not open/);
    expect(() => secretBox(`${SECRET}-other`).open('tenant-a', sealed)).toThrow(/do not open/);
    const flipped = Buffer.from(sealed);
    flipped[flipped.length - 1] = (flipped[flipped.length - 1] as number) ^ 1;
    expect(() => box.open('tenant-a', flipped)).toThrow(/do not open/);
    expect(() => box.open('tenant-a', Buffer.from([2, 1, 2, 3]))).toThrow(/known format/);
  });

  test('key ids tell secrets apart without being the secret; a short secret is refused', () => {
    expect(secretBox(SECRET).keyId).toBe(secretBox(SECRET).keyId);
    expect(secretBox(SECRET).keyId).not.toBe(secretBox(`${SECRET}x`).keyId);
    expect(SECRET).not.toContain(secretBox(SECRET).keyId);
    expect(() => secretBox('too-short')).toThrow(/at least 32/);
  });
});
