import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { FleetError } from '../errors.ts';

/**
 * Where the application secret lives when the tool made it (URL and embedded modes, without
 * FLEET_APP_SECRET): a JSON file readable by its owner only (0600, in a 0700 directory), by default
 * `.fleet/credentials/<key>.json` next to the embedded cluster. One file per database:
 * `embedded_<database>` or `<host>_<port>_<database>`. Never in a table: whoever reads the control
 * schema must not learn it. The passwords of the tenants' session roles are derived from it
 * (session-login.ts) and stored nowhere. In AWS there is no file: session roles use IAM tokens.
 *
 * Version 1 files held the password of the former shared application role; they are replaced by a
 * version 2 file the first time the access opens.
 */
export interface StoredCredentials {
  readonly version: 2;
  /** 32 random bytes, base64url. */
  readonly secret: string;
  readonly createdAt: string;
}

export function credentialsFile(dir: string, key: string): string {
  const safe = key.replace(/[^A-Za-z0-9_.-]+/g, '_').slice(0, 200);
  return path.join(dir, `${safe}.json`);
}

export async function readCredentials(file: string): Promise<StoredCredentials | undefined> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new FleetError(
      'CONFIG_INVALID',
      `cannot read the application credentials ${file}: ${(error as Error).message}. Fix its permissions, or delete it: a new secret is then generated.`,
    );
  }
  try {
    const parsed = JSON.parse(text) as Partial<StoredCredentials>;
    if (parsed.version !== 2 || typeof parsed.secret !== 'string' || parsed.secret.length < 32) return undefined;
    return parsed as StoredCredentials;
  } catch {
    // A damaged file is as good as none: the caller generates a new secret.
    return undefined;
  }
}

/** Written to a temporary file and renamed into place: a reader never sees half a file. */
export async function writeCredentials(file: string, credentials: StoredCredentials): Promise<void> {
  const dir = path.dirname(file);
  await fs.mkdir(dir, { recursive: true, mode: 0o700 });
  await fs.chmod(dir, 0o700);
  const temp = `${file}.${randomBytes(4).toString('hex')}.tmp`;
  await fs.writeFile(temp, `${JSON.stringify(credentials, null, 2)}\n`, { mode: 0o600 });
  await fs.rename(temp, file);
}
