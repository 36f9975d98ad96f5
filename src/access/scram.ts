import { createHash, createHmac, pbkdf2Sync, randomBytes } from 'node:crypto';

/**
 * A SCRAM-SHA-256 verifier for a password, in the form PostgreSQL stores
 * (`SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>`, RFC 5802 / 7677). Sending the
 * verifier instead of the password keeps the password out of the server's statement log. The
 * password must be plain ASCII (SASLprep is then the identity): we only hash passwords we generate.
 */
export function scramVerifier(password: string, options: { iterations?: number; salt?: Buffer } = {}): string {
  if (!/^[\x21-\x7e]+$/.test(password)) throw new Error('scramVerifier: only visible ASCII passwords (we generate them)');
  const iterations = options.iterations ?? 4096;
  const salt = options.salt ?? randomBytes(16);
  const salted = pbkdf2Sync(password, salt, iterations, 32, 'sha256');
  const clientKey = createHmac('sha256', salted).update('Client Key').digest();
  const storedKey = createHash('sha256').update(clientKey).digest();
  const serverKey = createHmac('sha256', salted).update('Server Key').digest();
  return `SCRAM-SHA-256$${iterations}:${salt.toString('base64')}$${storedKey.toString('base64')}:${serverKey.toString('base64')}`;
}

/** A password of 32 random bytes, base64url: 43 visible ASCII characters. */
export function generatePassword(): string {
  return randomBytes(32).toString('base64url');
}
