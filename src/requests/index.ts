/**
 * tenant-fleet/requests: authenticate every request for one tenant before any tenant data flows.
 * The framework-agnostic guard (createRequestGuard) and the Atlassian
 * lifecycle handlers that keep what the guard checks against (secrets, installations) current.
 * The Fastify plugin is `tenant-fleet/requests/fastify`, so that this entry needs no Fastify.
 */
export {
  createRequestGuard,
  type ConnectCheck,
  type ConnectGuardOptions,
  type ForgeCheck,
  type ForgeGuardOptions,
  type GuardedTenant,
  type GuardKind,
  type GuardRejection,
  type GuardRejectionCode,
  type GuardRequest,
  type GuardResult,
  type RequestGuard,
  type RequestGuardOptions,
} from './guard.ts';
export { ForgeKeySet, FORGE_JWKS_URL, defaultJwksFetcher, type JwksFetcher } from './forge-keys.ts';
export {
  receiveConnectCallback,
  databaseReplayCache,
  type CallbackReceipt,
  type CallbackRejectionCode,
  type ReceiveCallbackOptions,
  type ReplayCache,
} from '../atlassian/connect-callback.ts';
export { atlassianKeyFetcher, fixedKeyFetcher, ATLASSIAN_INSTALL_KEYS_URL, type KeyFetcher } from '../atlassian/connect-jwt.ts';
export { queryStringHash, canonicalRequest } from '../atlassian/query-string-hash.ts';
export { receiveForgeInstalled, receiveForgePreUninstall } from '../atlassian/forge-lifecycle.ts';
export { openSecretBox } from '../atlassian/installations.ts';
export { secretBox, type SecretBox } from '../atlassian/secret-box.ts';
