export type MigrationPhase = 'pre-deploy' | 'post-deploy';

export interface Directives {
  readonly noTransaction: boolean;
  readonly phase: MigrationPhase;
  readonly allow: ReadonlyMap<string, string>;
  readonly problems: readonly string[];
}

const DIRECTIVE = /^--\s*fleet:(\S+)\s*(.*)$/;

/**
 * The `-- fleet:` lines of a migration's leading comment block (before the first statement):
 * `no-transaction`, `phase pre-deploy|post-deploy`, `allow <rule>: <reason>`. An unknown or
 * malformed directive is a problem, not ignored: a typo in `post-deploy` would otherwise run a
 * destructive migration before the release that still needs the column.
 */
export function parseDirectives(source: string): Directives {
  let noTransaction = false;
  let phase: MigrationPhase = 'pre-deploy';
  const allow = new Map<string, string>();
  const problems: string[] = [];
  for (const raw of source.split('\n')) {
    const line = raw.trim();
    if (line === '') continue;
    if (!line.startsWith('--')) break;
    const match = DIRECTIVE.exec(line);
    if (!match) continue;
    const [, name, rest = ''] = match;
    const arg = rest.trim();
    if (name === 'no-transaction' && arg === '') noTransaction = true;
    else if (name === 'phase' && (arg === 'pre-deploy' || arg === 'post-deploy')) phase = arg;
    else if (name === 'allow' && /^[a-z0-9-]+:\s*\S/.test(arg)) {
      const colon = arg.indexOf(':');
      allow.set(arg.slice(0, colon), arg.slice(colon + 1).trim());
    } else {
      problems.push(
        `unknown or malformed directive "${line}"; known: "-- fleet:no-transaction", "-- fleet:phase pre-deploy|post-deploy", "-- fleet:allow <rule>: <reason>"`,
      );
    }
  }
  return { noTransaction, phase, allow, problems };
}
