/**
 * The request tests' world: a local key server standing in for Atlassian's install-key service and
 * Forge's JWKS, token makers for both kinds of app, and the example add-on server on 127.0.0.1.
 */
import { createHmac } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { SignJWT, exportJWK, exportSPKI, generateKeyPair, type CryptoKey, type JWTPayload } from 'jose';
import { queryStringHash } from '../../../src/atlassian/query-string-hash.ts';
import type { Clock } from '../../../src/clock.ts';

export const APP_BASE_URL = 'https://addon.example.test';
export const FORGE_APP_ID = 'ari:cloud:ecosystem::app/6a1e2d3c-4b5a-4f6e-8d7c-9b0a1f2e3d4c';
export const INSTALL_KID = 'install-key-1';
export const FORGE_KID = 'forge-key-1';

export type KeyPair = { publicKey: CryptoKey; privateKey: CryptoKey };

export interface KeyServer {
  readonly url: string;
  readonly atlassian: KeyPair;
  readonly forge: KeyPair;
  readonly rogue: KeyPair;
  /** When true the JWKS answers 503. */
  jwksDown: boolean;
  readonly hits: { connect: number; jwks: number };
  close(): Promise<void>;
}

export async function startKeyServer(): Promise<KeyServer> {
  const atlassian = await generateKeyPair('RS256', { extractable: true });
  const forge = await generateKeyPair('RS256', { extractable: true });
  const rogue = await generateKeyPair('RS256', { extractable: true });
  const pem = await exportSPKI(atlassian.publicKey);
  const jwk = { ...(await exportJWK(forge.publicKey)), kid: FORGE_KID, alg: 'RS256', use: 'sig' };
  const state = { jwksDown: false, hits: { connect: 0, jwks: 0 } };
  const server = http.createServer((req, res) => {
    if (req.url === `/connect/${INSTALL_KID}`) {
      state.hits.connect += 1;
      res.writeHead(200, { 'content-type': 'application/x-pem-file' }).end(pem);
    } else if (req.url === '/forge/jwks.json') {
      state.hits.jwks += 1;
      if (state.jwksDown) res.writeHead(503).end('down');
      else res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [jwk] }));
    } else {
      res.writeHead(404).end('no such key');
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return Object.assign(state, {
    url: `http://127.0.0.1:${port}`,
    atlassian,
    forge,
    rogue,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  }) as KeyServer;
}

const seconds = (clock: Clock) => Math.floor(clock.now().getTime() / 1000);

/** An Atlassian signed install/uninstall callback token (RS256, kid of the key service). */
export async function signedInstallToken(
  clock: Clock,
  key: CryptoKey,
  clientKey: string,
  event: 'installed' | 'uninstalled',
  options: { kid?: string; path?: string } = {},
): Promise<string> {
  const now = seconds(clock);
  return new SignJWT({ qsh: queryStringHash({ method: 'POST', path: options.path ?? `/connect/${event}` }) })
    .setProtectedHeader({ alg: 'RS256', kid: options.kid ?? INSTALL_KID, typ: 'JWT' })
    .setIssuer(clientKey)
    .setAudience(APP_BASE_URL)
    .setIssuedAt(now)
    .setExpirationTime(now + 180)
    .sign(key);
}

export function connectPayload(event: 'installed' | 'uninstalled', clientKey: string, sharedSecret: string): Record<string, unknown> {
  return {
    key: 'expium-addon',
    clientKey,
    baseUrl: `https://${clientKey.slice(0, 8)}.atlassian.net`,
    eventType: event,
    productType: 'jira',
    sharedSecret,
  };
}

export interface ConnectTokenOptions {
  readonly method?: string;
  readonly path?: string;
  readonly query?: string;
  /** Overrides the computed qsh; null leaves it out. */
  readonly qsh?: string | null;
  readonly exp?: number | null;
  readonly nbf?: number;
  readonly iss?: string;
  readonly sub?: string;
}

/** A Connect request token the tenant's product would send (HS256 with its sharedSecret). */
export async function connectToken(
  clock: Clock,
  clientKey: string,
  secret: string,
  options: ConnectTokenOptions = {},
  alg = 'HS256',
): Promise<string> {
  const now = seconds(clock);
  const qsh =
    options.qsh === undefined
      ? queryStringHash(
          { method: options.method ?? 'GET', path: options.path ?? '/connect/api/issues', query: options.query ?? '' },
          APP_BASE_URL,
        )
      : options.qsh;
  const claims: JWTPayload = { ...(qsh !== null ? { qsh } : {}), sub: options.sub ?? '557058:user-1' };
  let jwt = new SignJWT(claims)
    .setProtectedHeader({ alg, typ: 'JWT' })
    .setIssuer(options.iss ?? clientKey)
    .setIssuedAt(now);
  if (options.exp !== null) jwt = jwt.setExpirationTime(options.exp ?? now + 180);
  if (options.nbf !== undefined) jwt = jwt.setNotBefore(options.nbf);
  return jwt.sign(new TextEncoder().encode(secret));
}

/** A JWT signed by hand (for headers jose will not sign: alg none, RS256 with an HMAC). */
export function handmadeToken(header: Record<string, unknown>, payload: Record<string, unknown>, hmacSecret?: string): string {
  const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const input = `${b64(header)}.${b64(payload)}`;
  const signature = hmacSecret === undefined ? '' : createHmac('sha256', hmacSecret).update(input).digest('base64url');
  return `${input}.${signature}`;
}

export interface FitOptions {
  readonly aud?: string;
  readonly iss?: string;
  readonly exp?: number;
  readonly nbf?: number;
  readonly kid?: string;
  readonly key?: CryptoKey;
  readonly principal?: string;
}

/** A Forge Invocation Token as Forge signs it. */
export async function forgeToken(
  clock: Clock,
  keys: KeyServer,
  cloudId: string,
  installationId: string,
  options: FitOptions = {},
): Promise<string> {
  const now = seconds(clock);
  return new SignJWT({
    app: {
      installationId,
      id: FORGE_APP_ID,
      appId: FORGE_APP_ID.split('/')[1],
      environment: { type: 'DEVELOPMENT', id: 'ari:cloud:ecosystem::environment/x' },
      module: { type: 'core:endpoint', key: 'remote' },
    },
    context: { cloudId, siteUrl: `https://${cloudId.slice(0, 8)}.atlassian.net` },
    principal: options.principal ?? '557058:forge-user',
  })
    .setProtectedHeader({ alg: 'RS256', kid: options.kid ?? FORGE_KID })
    .setIssuer(options.iss ?? 'forge/invocation-token')
    .setAudience(options.aud ?? FORGE_APP_ID)
    .setIssuedAt(now)
    .setNotBefore(options.nbf ?? now - 5)
    .setExpirationTime(options.exp ?? now + 300)
    .setJti(`jti-${Math.random().toString(36).slice(2)}`)
    .sign(options.key ?? keys.forge.privateKey);
}

export interface Answer {
  readonly status: number;
  readonly body: Record<string, unknown>;
  readonly text: string;
}

export async function call(
  base: string,
  method: string,
  path: string,
  options: { authorization?: string; body?: unknown } = {},
): Promise<Answer> {
  const response = await fetch(`${base}${path}`, {
    method,
    headers: {
      ...(options.authorization !== undefined ? { authorization: options.authorization } : {}),
      ...(options.body !== undefined ? { 'content-type': 'application/json' } : {}),
    },
    ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : {}),
  });
  const text = await response.text();
  let body: Record<string, unknown> = {};
  try {
    body = JSON.parse(text) as Record<string, unknown>;
  } catch {
    // Not JSON: the test says so through body being empty.
  }
  return { status: response.status, body, text };
}
