import { FleetError } from '../errors.ts';
import type { MigrationFile } from './migration-files.ts';
import type { RegionState } from './plan.ts';

/**
 * A migration may create only the extensions the fleet description lists (they are installed once
 * per database in the shared schema, and the statement is a no-op for the tenant). Any other is
 * refused before a tenant is touched, naming the file and the extension.
 */
export function checkExtensions(files: readonly MigrationFile[], listed: readonly string[]): void {
  const allowed = new Set(listed);
  const problems = files.flatMap((f) =>
    f.extensions
      .filter((x) => !allowed.has(x))
      .map(
        (x) =>
          `${f.file}: CREATE EXTENSION ${x}, which the fleet description does not list; add "${x}" to "extensions" in the fleet description (it is then installed once per database in the shared schema fleet_ext) and run again`,
      ),
  );
  if (problems.length > 0)
    throw new FleetError(
      'MIGRATION_FILES_INVALID',
      'migrations create extensions the fleet does not install; nothing was touched:',
      problems,
    );
}

/**
 * A file no tenant has applied whose version sorts before the newest version some tenant has
 * applied: merged late from a branch, it would run on lagging tenants in order and on up-to-date
 * ones after newer migrations, so tenants would end up applying the same files in different
 * orders. Refused (naming the file and such a tenant) unless the caller allows out-of-order files.
 */
export function checkOutOfOrder(states: readonly RegionState[], files: readonly MigrationFile[]): void {
  const byName = new Map(files.map((f) => [f.name, f]));
  let newest: { file: MigrationFile; tenant: string } | undefined;
  for (const state of states) {
    for (const tenant of state.tenants) {
      for (const name of tenant.applied) {
        const file = byName.get(name);
        if (file && (!newest || file.number > newest.file.number)) newest = { file, tenant: tenant.id };
      }
    }
  }
  if (!newest) return;
  const appliedAnywhere = new Set(states.flatMap((s) => [...s.checksums.keys()]));
  const late = files.filter((f) => !appliedAnywhere.has(f.name) && f.number < (newest as { file: MigrationFile }).file.number);
  if (late.length === 0) return;
  throw FleetError.forOption(
    'MIGRATION_FILES_INVALID',
    'allowOutOfOrder',
    (o) =>
      `new migrations sort before migrations tenants already have; give them a version after ${newest?.file.name} (rename the file), or pass ${o} to apply them out of order. Nothing was touched:`,
    late.map((f) => `${f.file}: version ${f.number} is older than ${newest?.file.name}, applied to tenant ${newest?.tenant}`),
  );
}
