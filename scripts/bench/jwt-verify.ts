/**
 * What a Connect token's signature check costs, apart from the rest of the guard: jose's jwtVerify
 * (HS256, WebCrypto) against the same HMAC through node:crypto, median of 20,000 calls each.
 * Not part of npm run bench.
 *
 *   node --import tsx scripts/bench/jwt-verify.ts
 */
import { createHmac, timingSafeEqual, webcrypto } from 'node:crypto';
import { SignJWT, jwtVerify } from 'jose';
import { median } from './lib.ts';

const secret = new TextEncoder().encode('bench-shared-secret-0123456789abcdef');
const key = await webcrypto.subtle.importKey('raw', secret, { name: 'HMAC', hash: 'SHA-256' }, false, ['verify']);
const token = await new SignJWT({ qsh: 'a'.repeat(64), iss: 'bench-tenant' })
  .setProtectedHeader({ alg: 'HS256' })
  .setExpirationTime('1h')
  .sign(secret);

async function time(label: string, once: () => unknown): Promise<void> {
  for (let i = 0; i < 2_000; i += 1) await once();
  const costs: number[] = [];
  for (let i = 0; i < 20_000; i += 1) {
    const started = performance.now();
    await once();
    costs.push(performance.now() - started);
  }
  console.log(`${label}: median ${(median(costs) * 1000).toFixed(1)} µs`);
}

const [head, payload, signature] = token.split('.') as [string, string, string];
await time('jose jwtVerify (HS256, WebCrypto)', () => jwtVerify(token, key, { algorithms: ['HS256'] }));
await time('WebCrypto HMAC verify alone', () =>
  webcrypto.subtle.verify('HMAC', key, Buffer.from(signature, 'base64url'), Buffer.from(`${head}.${payload}`)),
);
await time('node:crypto HMAC and compare', () =>
  timingSafeEqual(createHmac('sha256', secret).update(`${head}.${payload}`).digest(), Buffer.from(signature, 'base64url')),
);
