import { createHash } from 'node:crypto';
import { FleetError } from '../errors.ts';

/**
 * Atlassian's query string hash (the `qsh` claim): SHA-256, hex, of the canonical request
 * `METHOD&URI&QUERY`, binding a token to one HTTP method, one path and one set of query parameters.
 *
 * - METHOD: the HTTP method in upper case.
 * - URI: the path relative to the app's base URL (its path prefix, the "context path", removed),
 *   always starting with `/`, without a trailing `/` (except `/` itself), `&` written `%26` so a
 *   path cannot pass for query parameters; empty is `/`.
 * - QUERY: every parameter but `jwt`, names and values percent-encoded per RFC 3986 (everything
 *   but A-Z a-z 0-9 - . _ ~, so a space is %20, never +, with upper-case hex), sorted by encoded
 *   name; a repeated parameter's encoded values are sorted and joined with `,`; a parameter
 *   without a value is `name=`; pairs joined with `&`. No parameters: the empty string.
 *
 * An install or uninstall callback is a POST to the lifecycle URL without query parameters, so its
 * canonical request is e.g. `POST&/installed&`.
 */
export interface CanonicalRequestInput {
  readonly method: string;
  /** The request path as received, e.g. `/installed` or `/jira-app/installed` (without the query). */
  readonly path: string;
  /** The query: a raw query string (with or without `?`), URLSearchParams, or parsed parameters. */
  readonly query?: string | URLSearchParams | Readonly<Record<string, string | readonly string[] | undefined>>;
}

export function encodeRfc3986(value: string): string {
  let encoded: string;
  try {
    encoded = encodeURIComponent(value);
  } catch {
    throw new FleetError(
      'INPUT_INVALID',
      `query string value ${JSON.stringify(value)} is not valid Unicode (a lone surrogate); it cannot be hashed`,
    );
  }
  // encodeURIComponent leaves ! ' ( ) * alone; RFC 3986 reserves them.
  return encoded.replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** The path prefix of the app's base URL, without a trailing slash: `https://app.example.com/jira/` → `/jira`. */
export function basePathOf(appBaseUrl: string | undefined): string {
  if (!appBaseUrl) return '';
  let pathname: string;
  try {
    pathname = new URL(appBaseUrl).pathname;
  } catch {
    pathname = appBaseUrl.startsWith('/') ? appBaseUrl : '';
  }
  return pathname.replace(/\/+$/, '');
}

export function canonicalUri(path: string, appBaseUrl?: string): string {
  let uri = path.split('?')[0] ?? '';
  const prefix = basePathOf(appBaseUrl);
  if (prefix !== '' && (uri === prefix || uri.startsWith(`${prefix}/`))) uri = uri.slice(prefix.length);
  uri = uri.replaceAll('&', '%26');
  if (!uri.startsWith('/')) uri = `/${uri}`;
  if (uri.length > 1 && uri.endsWith('/')) uri = uri.slice(0, -1);
  return uri;
}

function parameters(query: CanonicalRequestInput['query']): Map<string, string[]> {
  const params = new Map<string, string[]>();
  const add = (name: string, value: string) => {
    const list = params.get(name);
    if (list) list.push(value);
    else params.set(name, [value]);
  };
  if (query === undefined) return params;
  if (typeof query === 'string' || query instanceof URLSearchParams) {
    const search = typeof query === 'string' ? new URLSearchParams(query.startsWith('?') ? query.slice(1) : query) : query;
    for (const [name, value] of search) add(name, value);
    return params;
  }
  for (const [name, value] of Object.entries(query)) {
    if (value === undefined) continue;
    if (typeof value === 'string') add(name, value);
    else for (const v of value) add(name, v);
  }
  return params;
}

export function canonicalQueryString(query: CanonicalRequestInput['query']): string {
  const pairs: Array<[string, string]> = [];
  for (const [name, values] of parameters(query)) {
    if (name === 'jwt') continue;
    const encodedValues = values.map(encodeRfc3986).sort();
    pairs.push([encodeRfc3986(name), encodedValues.join(',')]);
  }
  pairs.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return pairs.map(([name, value]) => `${name}=${value}`).join('&');
}

export function canonicalRequest(request: CanonicalRequestInput, appBaseUrl?: string): string {
  return `${request.method.toUpperCase()}&${canonicalUri(request.path, appBaseUrl)}&${canonicalQueryString(request.query)}`;
}

export function queryStringHash(request: CanonicalRequestInput, appBaseUrl?: string): string {
  return createHash('sha256').update(canonicalRequest(request, appBaseUrl)).digest('hex');
}
