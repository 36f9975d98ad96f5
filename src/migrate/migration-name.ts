/** A full name as is; a version alone (`0006`) as the one migration whose name starts with it and `_`. */
export function resolveMigrationName(files: readonly { readonly name: string }[], to: string): string {
  if (files.some((f) => f.name === to)) return to;
  const matches = files.filter((f) => f.name.startsWith(`${to}_`));
  return matches.length === 1 && matches[0] ? matches[0].name : to;
}
