import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { FleetError } from '../../src/index.ts';
import { EXIT, runCommand, withFleet, type GlobalOptions } from '../cli/run-command.ts';

interface ReceiveFlags {
  file: string;
  jwt?: string;
  baseUrl?: string;
  method: string;
  path?: string;
  query?: string;
  publicKeyFile?: string;
  keyUrl?: string;
  appKey?: string;
  region?: string;
  json?: boolean;
}

function readText(file: string, flag: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    throw new FleetError('INPUT_INVALID', `cannot read ${flag} ${file}: ${(error as Error).message}`);
  }
}

/**
 * Where Atlassian's public keys are fetched by default, for the help text: the command loads
 * src/requests (and its JWT library, a fifth of every CLI start) only when it runs.
 * test/unit/cli/lifecycle-command.test.ts keeps it equal to ATLASSIAN_INSTALL_KEYS_URL.
 */
export const DEFAULT_KEY_URL = 'https://connect-install-keys.atlassian.com';

/** `fleet lifecycle receive`: apply an Atlassian Connect installed/uninstalled callback after verifying its JWT. */
export function registerLifecycleCommand(program: Command): void {
  const lifecycle = program.command('lifecycle').description('Atlassian Connect lifecycle callbacks');
  lifecycle
    .command('receive')
    .description(
      'verify an installed/uninstalled callback (its JWT: RS256, key by kid, aud, exp, iss, qsh), then install or uninstall the tenant',
    )
    .requiredOption('--file <payload.json>', 'the callback body (JSON with eventType, clientKey, ...)')
    .option('--jwt <token>', 'the token of the Authorization header ("JWT <token>" or the bare token)')
    .option('--base-url <url>', "the app's base URL, as in its Connect descriptor (default FLEET_APP_BASE_URL)")
    .option('--method <method>', 'the HTTP method the callback came with', 'POST')
    .option('--path <path>', 'the path the callback came to (default /installed or /uninstalled, from eventType)')
    .option('--query <query>', 'the query string the callback came with, if any')
    .option('--public-key-file <pem>', 'verify with this public key (PEM) instead of fetching it by kid: offline use')
    .option('--key-url <url>', `where public keys are fetched by kid (default ${DEFAULT_KEY_URL})`)
    .option('--app-key <key>', "the app's key: the payload's key must be it")
    .option('--region <name>', 'region for a tenant installed for the first time')
    .option('--json', 'JSON: { accepted, event, tenant, result } or { accepted: false, code, message }')
    .addHelpText(
      'after',
      `
Examples:
  $ fleet lifecycle receive --file installed.json --jwt "$TOKEN" --base-url https://app.example.com --region eu
  $ fleet lifecycle receive --file uninstalled.json --jwt "$TOKEN" --base-url https://app.example.com \\
      --public-key-file atlassian-key.pem --json

A missing or bad token (signature, audience, expiry, issuer, query string hash) changes nothing and
says why. Exit codes: 0 applied, 1 the key could not be fetched or provisioning failed, 2 rejected
callback or bad usage.`,
    )
    .action(async (flags: ReceiveFlags, command: Command) => {
      const { receiveConnectCallback, atlassianKeyFetcher, fixedKeyFetcher } = await import('../../src/requests/index.ts');
      const globals = command.optsWithGlobals<GlobalOptions>();
      await runCommand(Boolean(flags.json), async (out) => {
        const baseUrl = flags.baseUrl ?? process.env.FLEET_APP_BASE_URL;
        if (!baseUrl)
          throw new FleetError(
            'INPUT_INVALID',
            "--base-url is required (or FLEET_APP_BASE_URL): the app's base URL from its Connect descriptor, which the token's aud must name",
          );
        let payload: unknown;
        try {
          payload = JSON.parse(readText(flags.file, '--file'));
        } catch (error) {
          if (error instanceof FleetError) throw error;
          throw new FleetError('INPUT_INVALID', `--file ${flags.file} is not JSON: ${(error as Error).message}`);
        }
        const keyFetcher = flags.publicKeyFile
          ? fixedKeyFetcher(readText(flags.publicKeyFile, '--public-key-file'))
          : atlassianKeyFetcher(flags.keyUrl ? { baseUrl: flags.keyUrl } : {});
        const eventType = (payload as { eventType?: unknown } | null)?.eventType;
        const path = flags.path ?? (typeof eventType === 'string' ? `/${eventType}` : '/');
        return withFleet(globals, {}, async (fleet) => {
          const receipt = await receiveConnectCallback(fleet, {
            jwt: flags.jwt,
            payload,
            appBaseUrl: baseUrl,
            request: { method: flags.method, path, ...(flags.query !== undefined ? { query: flags.query } : {}) },
            keyFetcher,
            ...(flags.appKey ? { appKey: flags.appKey } : {}),
            ...(flags.region ? { region: flags.region } : {}),
          });
          if (!receipt.accepted) {
            if (out.json) out.printJson({ command: 'lifecycle receive', ok: false, ...receipt });
            else out.error(`${out.red('rejected')} [${receipt.code}] ${receipt.message}`);
            return receipt.code === 'KEY_UNAVAILABLE' ? EXIT.failed : EXIT.usage;
          }
          const ok = 'ok' in receipt.result ? receipt.result.ok : true;
          if (out.json) out.printJson({ command: 'lifecycle receive', ok, ...receipt });
          else {
            const r = receipt.result;
            const move = 'from' in r ? ` (${r.from ?? '(new)'} → ${r.to})` : '';
            out.line(`${out.green('✓')} ${receipt.event} callback verified for ${receipt.tenant}: ${r.outcome}${move}`);
            if ('purgeAfter' in r && r.purgeAfter) out.line(`  purge after ${r.purgeAfter} unless reinstalled or held`);
          }
          return ok ? EXIT.ok : EXIT.failed;
        });
      });
    });
}
