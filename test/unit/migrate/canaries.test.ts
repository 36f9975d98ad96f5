import { describe, expect, test } from 'vitest';
import { pickCanaries } from '../../../src/migrate/canaries.ts';

const item = (region: string, id: string) => ({ region: { name: region }, id });
const fleet = [
  item('eu', 'e1'),
  item('eu', 'e2'),
  item('eu', 'e3'),
  item('eu', 'e4'),
  item('us', 'u1'),
  item('us', 'u2'),
  item('au', 'a1'),
];
const ids = (list: readonly { id: string }[]) => list.map((i) => i.id);

describe('canaries spread over the regions', () => {
  test('one per region first, in region order, then a second round', () => {
    expect(ids(pickCanaries(fleet, 3))).toEqual(['e1', 'u1', 'a1']);
    expect(ids(pickCanaries(fleet, 5))).toEqual(['e1', 'u1', 'a1', 'e2', 'u2']);
  });

  test('fewer canaries than regions: the first regions get one each, not one region all of them', () => {
    expect(ids(pickCanaries(fleet, 2))).toEqual(['e1', 'u1']);
  });

  test('more canaries than tenants: every tenant once; zero: none', () => {
    expect(ids(pickCanaries(fleet, 100)).sort()).toEqual(ids(fleet).sort());
    expect(pickCanaries(fleet, 0)).toEqual([]);
  });
});
