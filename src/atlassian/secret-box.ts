import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes } from 'node:crypto';
import { FleetError } from '../errors.ts';

/**
 * Sealing a tenant's Connect credentials (sharedSecret, site baseUrl) for the control database:
 * AES-256-GCM under a key derived (HKDF-SHA256) from the application secret, the same secret the
 * tenants' session passwords come from (FLEET_APP_SECRET; in AWS read from Secrets Manager at
 * start). The tenant id is the additional authenticated data: a box moved to another tenant's row
 * does not open. The database holds the box and a key id, never the key.
 *
 * Layout: version (1 byte, 1) | IV (12) | tag (16) | ciphertext.
 */
const VERSION = 1;
const IV_BYTES = 12;
const TAG_BYTES = 16;

export interface SecretBox {
  /** Tells application secrets apart without revealing them: stored next to each box. */
  readonly keyId: string;
  seal(tenantId: string, plaintext: string): Buffer;
  /** Throws REFUSED when the box was sealed under another key, for another tenant, or altered. */
  open(tenantId: string, box: Buffer): string;
}

export function secretBox(appSecret: string): SecretBox {
  if (appSecret.length < 32) {
    throw new FleetError(
      'CONFIG_INVALID',
      `the application secret has ${appSecret.length} characters; it needs at least 32 to seal tenant credentials: set FLEET_APP_SECRET (in AWS, from Secrets Manager)`,
    );
  }
  const key = Buffer.from(hkdfSync('sha256', appSecret, 'tenant-fleet', 'connect tenant credentials v1', 32));
  const keyId = createHmac('sha256', appSecret).update('tenant-fleet connect credentials key id', 'utf8').digest('hex').slice(0, 16);
  return {
    keyId,
    seal(tenantId, plaintext) {
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv('aes-256-gcm', key, iv);
      cipher.setAAD(Buffer.from(tenantId, 'utf8'));
      const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
      return Buffer.concat([Buffer.from([VERSION]), iv, cipher.getAuthTag(), body]);
    },
    open(tenantId, box) {
      if (box.length < 1 + IV_BYTES + TAG_BYTES || box[0] !== VERSION) {
        throw new FleetError(
          'REFUSED',
          `the sealed credentials of tenant ${JSON.stringify(tenantId)} are not in a known format; a reinstall seals them again`,
        );
      }
      const iv = box.subarray(1, 1 + IV_BYTES);
      const tag = box.subarray(1 + IV_BYTES, 1 + IV_BYTES + TAG_BYTES);
      const decipher = createDecipheriv('aes-256-gcm', key, iv);
      decipher.setAAD(Buffer.from(tenantId, 'utf8'));
      decipher.setAuthTag(tag);
      try {
        return Buffer.concat([decipher.update(box.subarray(1 + IV_BYTES + TAG_BYTES)), decipher.final()]).toString('utf8');
      } catch {
        throw new FleetError(
          'REFUSED',
          `the sealed credentials of tenant ${JSON.stringify(tenantId)} do not open with this application secret (another FLEET_APP_SECRET, or an altered row); a reinstall seals them again`,
        );
      }
    },
  };
}
