import { createHash } from 'node:crypto';
import { describe, expect, test } from 'vitest';
import fc from 'fast-check';
import {
  canonicalQueryString,
  canonicalRequest,
  canonicalUri,
  encodeRfc3986,
  queryStringHash,
} from '../../../src/atlassian/query-string-hash.ts';

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

describe('canonical request (Atlassian query string hash)', () => {
  test('a lifecycle callback: POST, the path, no query', () => {
    expect(canonicalRequest({ method: 'post', path: '/installed' })).toBe('POST&/installed&');
    expect(queryStringHash({ method: 'POST', path: '/installed' })).toBe(sha256('POST&/installed&'));
  });

  test("known hashes: GET /path and GET / (as published with Atlassian's JWT library)", () => {
    expect(queryStringHash({ method: 'GET', path: '/path' })).toBe('799be84a7fa35570087163c0cd9af3abff7ac05c2c12ba0bb1d7eebc984b3ac2');
    expect(queryStringHash({ method: 'GET', path: '/' })).toBe('c88caad15a1c1a900b8ac08aa9686f4e8184539bea1deda36e2f649430df3239');
    expect(queryStringHash({ method: 'GET', path: '' })).toBe('c88caad15a1c1a900b8ac08aa9686f4e8184539bea1deda36e2f649430df3239');
  });

  test('a hash issued by Jira itself: the jwt parameter is left out, the rest sorted and encoded', () => {
    const query =
      'lic=none&tz=Australia%2FSydney&cp=%2Fjira&user_key=&loc=en-US&user_id=&jwt=eyJhbGciOiJIUzI1NiJ9.e30.x&xdm_e=http%3A%2F%2Fstorm%3A2990&xdm_c=channel-servlet-hello-world&xdm_p=1';
    expect(canonicalRequest({ method: 'get', path: '/hello-world', query })).toBe(
      'GET&/hello-world&cp=%2Fjira&lic=none&loc=en-US&tz=Australia%2FSydney&user_id=&user_key=&xdm_c=channel-servlet-hello-world&xdm_e=http%3A%2F%2Fstorm%3A2990&xdm_p=1',
    );
    expect(queryStringHash({ method: 'GET', path: '/hello-world', query: `?${query}` })).toBe(
      '8063ff4ca1e41df7bc90c8ab6d0f6207d491cf6dad7c66ea797b4614b71922e9',
    );
  });

  test('repeated parameters: values sorted and joined with commas; spaces as %20; valueless as name=', () => {
    expect(canonicalQueryString('zee_last=param&repeated=parameter 1&first=param&repeated=parameter 2&repeated=Parameter 2')).toBe(
      'first=param&repeated=Parameter%202,parameter%201,parameter%202&zee_last=param',
    );
    expect(canonicalQueryString({ repeated: ['b', 'a'], single: 'x y' })).toBe('repeated=a,b&single=x%20y');
    expect(canonicalQueryString('a&b=foo&c')).toBe('a=&b=foo&c=');
    expect(canonicalQueryString('q=a+b')).toBe('q=a%20b');
    expect(canonicalQueryString('')).toBe('');
  });

  test('RFC 3986: only unreserved characters stay as they are', () => {
    expect(encodeRfc3986("A-z0._~!'()*/ ?&=+,;:@é")).toBe('A-z0._~%21%27%28%29%2A%2F%20%3F%26%3D%2B%2C%3B%3A%40%C3%A9');
    expect(() => encodeRfc3986('\uD800')).toThrow(/not valid Unicode/);
  });

  test('URI: the app base URL path is removed, & encoded, trailing slash dropped', () => {
    expect(canonicalUri('/jira-app/installed', 'https://app.example.com/jira-app')).toBe('/installed');
    expect(canonicalUri('/jira-app/installed', 'https://app.example.com/jira-app/')).toBe('/installed');
    expect(canonicalUri('/jira-appx/installed', 'https://app.example.com/jira-app')).toBe('/jira-appx/installed');
    expect(canonicalUri('/installed/', 'https://app.example.com')).toBe('/installed');
    expect(canonicalUri('installed')).toBe('/installed');
    expect(canonicalUri('/jira-app', 'https://app.example.com/jira-app')).toBe('/');
    expect(canonicalRequest({ method: 'post', path: '/rest/api/2/project&a=b&c=d', query: 'x=y' })).toBe(
      'POST&/rest/api/2/project%26a=b%26c=d&x=y',
    );
  });

  test('an & in the path never hashes like a query parameter', () => {
    const inPath = queryStringHash({ method: 'POST', path: '/rest/api/2/project&a=b', query: 'x=y' });
    const inQuery = queryStringHash({ method: 'POST', path: '/rest/api/2/project', query: 'a=b&x=y' });
    expect(inPath).not.toBe(inQuery);
  });

  test('property: the query string form, URLSearchParams and parsed parameters hash alike; order does not matter', () => {
    const name = fc.string({ minLength: 1, maxLength: 6 }).filter((s) => s !== 'jwt' && !s.includes('\uD800'));
    fc.assert(
      fc.property(fc.array(fc.tuple(name, fc.string({ maxLength: 8 })), { maxLength: 6 }), fc.integer(), (pairs, seed) => {
        const search = new URLSearchParams(pairs);
        const shuffled = [...pairs].sort((a, b) => ((a[0] + a[1] + seed).length % 3) - ((b[0] + b[1] + seed).length % 3));
        const record: Record<string, string[]> = {};
        for (const [k, v] of shuffled) (record[k] ??= []).push(v);
        const a = queryStringHash({ method: 'GET', path: '/x', query: search.toString() });
        expect(queryStringHash({ method: 'GET', path: '/x', query: search })).toBe(a);
        expect(queryStringHash({ method: 'GET', path: '/x', query: record })).toBe(a);
        expect(queryStringHash({ method: 'GET', path: '/x', query: `${new URLSearchParams(shuffled).toString()}&jwt=abc` })).toBe(a);
      }),
      { numRuns: 200 },
    );
  });
});
