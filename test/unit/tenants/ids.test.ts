import { describe, expect, test } from 'vitest';
import { assertTenantIds, findSchemaCollisions, schemaNameFor, tenantIdProblem } from '../../../src/tenants/ids.ts';

describe('tenant ids', () => {
  test.each([
    ['acme', 't_acme'],
    ['b4c1e1f2-0000-4000-8000-000000000001', 't_b4c1e1f2_0000_4000_8000_000000000001'],
    ['0day', 't_0day'],
    ['a'.repeat(60), `t_${'a'.repeat(60)}`],
  ])('%s maps to schema %s, within 63 bytes', (id, schema) => {
    expect(schemaNameFor(id)).toBe(schema);
    expect(Buffer.byteLength(schemaNameFor(id))).toBeLessThanOrEqual(63);
  });

  test.each([
    ["acme'; DROP SCHEMA fleet CASCADE; --", 'not valid'],
    ['acme"', 'not valid'],
    ['acme;', 'not valid'],
    ['ac me', 'not valid'],
    ['Acme', 'uppercase'],
    ['åcme', 'not valid'],
    ['acme\u0000', 'not valid'],
    ['x'.repeat(100), '100 characters'],
    ['', 'empty'],
    ['-acme', 'not valid'],
    ['acme.corp', 'not valid'],
  ])('%j is refused with a clear error (%s)', (id, words) => {
    expect(tenantIdProblem(id)).toContain(words);
    expect(() => schemaNameFor(id)).toThrow(/tenant id|empty/);
  });

  test('every bad id of a list is reported at once', () => {
    try {
      assertTenantIds(['good', 'Bad', 'also bad', 'fine-2']);
      expect.unreachable();
    } catch (error) {
      expect((error as { problems: string[] }).problems).toHaveLength(2);
      expect((error as Error).message).toContain('nothing was changed');
    }
  });

  test('ids that would share a schema are found', () => {
    expect(findSchemaCollisions(['acme-1', 'globex', 'acme_1'])).toEqual([['acme-1', 'acme_1']]);
    expect(findSchemaCollisions(['acme-1', 'acme-1'])).toEqual([]);
  });
});
