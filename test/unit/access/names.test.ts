import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { appRoleName, isFleetRole, supportRoleName, tenantRoleName, tenantsGroupName } from '../../../src/access/names.ts';
import { schemaNameFor } from '../../../src/tenants/ids.ts';
import { FleetError } from '../../../src/errors.ts';

const PREFIX = 'f0a1b2c3d';

describe('role names', () => {
  test('a short schema: <prefix>_<schema>', () => {
    expect(tenantRoleName(PREFIX, 't_acme')).toBe('f0a1b2c3d_t_acme');
    expect(tenantsGroupName(PREFIX)).toBe('f0a1b2c3d_tenants');
    expect(appRoleName(PREFIX)).toBe('f0a1b2c3d_app');
    expect(supportRoleName(PREFIX, 12)).toBe('f0a1b2c3d_support_12');
  });

  test('the longest schema (62 characters) gets a hashed name of exactly 63 bytes', () => {
    const schema = schemaNameFor('a'.repeat(60));
    expect(schema).toHaveLength(62);
    const role = tenantRoleName(PREFIX, schema);
    expect(Buffer.byteLength(role)).toBe(63);
    expect(role).toMatch(/^f0a1b2c3d_t_a{38}_[0-9a-f]{12}$/);
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
    const names = [tenantsGroupName(PREFIX), appRoleName(PREFIX), supportRoleName(PREFIX, 1), tenantRoleName(PREFIX, schemaNameFor('tenants')), tenantRoleName(PREFIX, schemaNameFor('app'))];
    expect(new Set(names).size).toBe(names.length);
    for (const n of names) expect(isFleetRole(PREFIX, n)).toBe(true);
    expect(isFleetRole(PREFIX, 'postgres')).toBe(false);
  });

  test('a damaged prefix or grant id is refused', () => {
    expect(() => tenantRoleName('x"; DROP', 't_acme')).toThrow(FleetError);
    expect(() => supportRoleName(PREFIX, '1; DROP ROLE x')).toThrow(FleetError);
    expect(() => supportRoleName(PREFIX, 0)).toThrow(FleetError);
  });
});
