/** The package's exports map, read from package.json, with where each subpath's source lives. */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

interface PackageJson {
  readonly name: string;
  readonly exports: Record<string, string | { readonly types: string; readonly default: string }>;
}

export const PACKAGE = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as PackageJson;

export interface Subpath {
  /** `tenant-fleet`, `tenant-fleet/access`, ... */
  readonly specifier: string;
  /** The TypeScript file the build compiles into the subpath's target. */
  readonly source: string;
}

/**
 * Every code subpath of the exports map (not ./package.json), split into those whose source
 * exists and those that do not (yet: a subpath another branch adds its source for).
 */
export function codeSubpaths(): { present: Subpath[]; missing: Subpath[] } {
  const present: Subpath[] = [];
  const missing: Subpath[] = [];
  for (const [key, target] of Object.entries(PACKAGE.exports)) {
    if (typeof target === 'string') continue;
    const specifier = key === '.' ? PACKAGE.name : `${PACKAGE.name}/${key.slice(2)}`;
    const source = path.join(ROOT, target.default.replace(/^\.\/dist\//, '').replace(/\.js$/, '.ts'));
    (existsSync(source) ? present : missing).push({ specifier, source });
  }
  return { present, missing };
}
