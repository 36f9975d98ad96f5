import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { appRoleName, isFleetRole, sessionRoleName, supportRoleName, tenantRoleName, tenantsGroupName } from '../../../src/access/names.ts';
import { schemaNameFor } from '../../../src/tenants/ids.ts';
import { FleetError } from '../../../src/errors.ts';

const PREFIX = 'f0a1b2c3d';

describe('role names', () => {
  test('a short schema: <prefix>_<schema>', () => {
    expect(tenantRoleName(PREFIX, 't_acme')).toBe('f0a1b2c3d_t_acme');
    expect(tenantsGroupName(PREFIX)).toBe('f0a1b2c3d_tenants');
    expect(appRoleName(PREFIX)).toBe('f0a1b2c3d_app');
    expect(supportRoleName(PREFIX, 12)).toBe('f0a1b2c3d_support_12');
    expect(sessionRoleName(PREFIX, 't_acme')).toBe('f0a1b2c3d_l_t_acme');
  });

  test('session roles: the longest schema gets a hashed name of exactly 63 bytes; 51 characters of schema is the limit', () => {
    const role = sessionRoleName(PREFIX, schemaNameFor('a'.repeat(60)));
    expect(Buffer.byteLength(role)).toBe(63);
    expect(role).toMatch(/^f0a1b2c3d_l_t_a{36}\$[0-9a-f]{12}$/);
    const fits = schemaNameFor('b'.repeat(49));
    expect(sessionRoleName(PREFIX, fits)).toBe(`${PREFIX}_l_${fits}`);
    const over = schemaNameFor('b'.repeat(50));
    expect(sessionRoleName(PREFIX, over)).not.toBe(`${PREFIX}_l_${over}`);
    expect(Buffer.byteLength(sessionRoleName(PREFIX, over))).toBe(63);
  });

  test('every valid tenant id maps to a session role of at most 63 bytes, distinct for distinct schemas, never a tenant role', () => {
    const id = fc.stringMatching(/^[a-z0-9][a-z0-9_-]{0,59}$/);
    fc.assert(
      fc.property(id, id, (a, b) => {
        const [sa, sb] = [schemaNameFor(a), schemaNameFor(b)];
        const [la, lb] = [sessionRoleName(PREFIX, sa), sessionRoleName(PREFIX, sb)];
        expect(Buffer.byteLength(la)).toBeLessThanOrEqual(63);
        expect(la.startsWith(`${PREFIX}_l_t_`)).toBe(true);
        expect(la).not.toBe(tenantRoleName(PREFIX, sb));
        if (sa !== sb) expect(la).not.toBe(lb);
        expect(isFleetRole(PREFIX, la)).toBe(true);
      }),
      { numRuns: 2000 },
    );
  });

  test('the longest schema (62 characters) gets a hashed name of exactly 63 bytes', () => {
    const schema = schemaNameFor('a'.repeat(60));
    expect(schema).toHaveLength(62);
    const role = tenantRoleName(PREFIX, schema);
    expect(Buffer.byteLength(role)).toBe(63);
    expect(role).toMatch(/^f0a1b2c3d_t_a{38}\$[0-9a-f]{12}$/);
  });

  test('no id can be crafted so that its plain role name equals the hashed name of another tenant', () => {
    const long = schemaNameFor('c'.repeat(60));
    const hashed = tenantRoleName(PREFIX, long);
    // The attack: an id of 53 characters spelling the hashed name's tail. It cannot contain '$'.
    const tail = hashed.slice(`${PREFIX}_t_`.length);
    expect(() => schemaNameFor(tail)).toThrow(/tenant id/);
    const id = fc.stringMatching(/^[a-z0-9][a-z0-9_-]{0,59}$/);
    fc.assert(
      fc.property(id, (a) => {
        const schema = schemaNameFor(a);
        const plain = `${PREFIX}_${schema}`;
        expect(tenantRoleName(PREFIX, schema).includes('$')).toBe(plain.length > 63);
      }),
      { numRuns: 2000 },
    );
  });

  test('names that fit are kept whole: 53 characters of schema is the limit', () => {
    const fits = schemaNameFor('b'.repeat(51));
    expect(tenantRoleName(PREFIX, fits)).toBe(`${PREFIX}_${fits}`);
    const over = schemaNameFor('b'.repeat(52));
    expect(tenantRoleName(PREFIX, over)).not.toBe(`${PREFIX}_${over}`);
  });

  test('every valid tenant id maps to a role name of at most 63 bytes, distinct for distinct schemas', () => {
    const id = fc.stringMatching(/^[a-z0-9][a-z0-9_-]{0,59}$/);
    fc.assert(
      fc.property(id, id, (a, b) => {
        const [sa, sb] = [schemaNameFor(a), schemaNameFor(b)];
        const [ra, rb] = [tenantRoleName(PREFIX, sa), tenantRoleName(PREFIX, sb)];
        expect(Buffer.byteLength(ra)).toBeLessThanOrEqual(63);
        expect(ra.startsWith(`${PREFIX}_t_`)).toBe(true);
        if (sa !== sb) expect(ra).not.toBe(rb);
      }),
      { numRuns: 2000 },
    );
  });

  test('two long schemas sharing their first 40 characters get different roles', () => {
    const base = 'x'.repeat(55);
    const a = tenantRoleName(PREFIX, schemaNameFor(`${base}aaaaa`));
    const b = tenantRoleName(PREFIX, schemaNameFor(`${base}bbbbb`));
    expect(a).not.toBe(b);
    expect(a.slice(0, 50)).toBe(b.slice(0, 50));
  });

  test('tenant, group, app and support names never collide', () => {
    const names = [
      tenantsGroupName(PREFIX),
      appRoleName(PREFIX),
      supportRoleName(PREFIX, 1),
      tenantRoleName(PREFIX, schemaNameFor('tenants')),
      tenantRoleName(PREFIX, schemaNameFor('app')),
      sessionRoleName(PREFIX, schemaNameFor('tenants')),
      sessionRoleName(PREFIX, schemaNameFor('app')),
      tenantRoleName(PREFIX, schemaNameFor('l_t_app')),
      sessionRoleName(PREFIX, schemaNameFor('support_1')),
    ];
    expect(new Set(names).size).toBe(names.length);
    for (const n of names) expect(isFleetRole(PREFIX, n)).toBe(true);
    expect(isFleetRole(PREFIX, 'postgres')).toBe(false);
  });

  test('a damaged prefix or grant id is refused', () => {
    expect(() => tenantRoleName('x"; DROP', 't_acme')).toThrow(FleetError);
    expect(() => supportRoleName(PREFIX, '1; DROP ROLE x')).toThrow(FleetError);
    expect(() => supportRoleName(PREFIX, 0)).toThrow(FleetError);
    expect(() => sessionRoleName('f0a1b2c3', 't_acme')).toThrow(FleetError);
  });
});
