/**
 * The small sample fleet `npm start` registers on a fresh clone: realistic-looking Jira sites,
 * spread round-robin over the regions.
 */
const SITES = [
  'acme', 'globex', 'initech', 'umbrella', 'hooli', 'stark-industries', 'wayne-enterprises', 'wonka', 'cyberdyne', 'tyrell',
  'soylent', 'massive-dynamic', 'aperture', 'black-mesa', 'vandelay', 'dunder-mifflin', 'pied-piper', 'oscorp', 'gringotts', 'monsters-inc',
  'blue-sun', 'weyland-yutani', 'nakatomi', 'prestige-worldwide', 'sterling-cooper', 'bluth-company', 'krusty-krab', 'los-pollos', 'duff', 'virtucon',
  'abstergo', 'sirius-cybernetics', 'kwik-e-mart', 'planet-express', 'mom-corp', 'ollivanders', 'zorg', 'rekall', 'omni-consumer', 'buy-n-large',
  'spacely-sprockets', 'cogswell-cogs', 'ghostbusters', 'dharma', 'gekko-co', 'bubba-gump', 'wernham-hogg', 'contoso', 'fabrikam', 'northwind',
];

export function sampleTenants(regions: readonly string[]): Array<{ id: string; region: string }> {
  return SITES.map((site, i) => ({ id: `${site}-jira`, region: regions[i % regions.length] as string }));
}
