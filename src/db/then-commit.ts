import type pg from 'pg';

/** A value bound to a parameter: sent as text, as pg would send it. */
export type BoundValue = string | number | boolean | Date | null;

export interface NamedStatement {
  /** Prepared once per connection under this name. */
  readonly name: string;
  readonly text: string;
  readonly values: readonly BoundValue[];
}

function wire(value: BoundValue): string | null {
  if (value === null) return null;
  if (value instanceof Date) return value.toISOString();
  return String(value);
}

// The named statements prepared on each connection through this module (pg's own record of its
// prepared statements is not public).
const prepared = new WeakMap<pg.Connection, Set<string>>();

// The row count of a command tag: "INSERT 0 1", "UPDATE 3", "COMMIT".
function rowCountOf(tag: string | undefined): number | null {
  const match = /(\d+)$/.exec(tag ?? '');
  return match ? Number(match[1]) : null;
}

/**
 * One statement with bound parameters, then COMMIT, sent together ahead of one Sync of the
 * extended protocol: the server runs them in order and stops at the first error, and answers once.
 * The statement and the COMMIT of the transaction it ends cost one round trip instead of two.
 */
class StatementThenCommit implements pg.Submittable {
  private rowCount: number | null = null;
  private commands = 0;
  private failed = false;

  constructor(
    private readonly statement: NamedStatement,
    private readonly done: (error: Error | null, rowCount: number | null) => void,
  ) {}

  submit(connection: pg.Connection): void {
    let names = prepared.get(connection);
    if (!names) prepared.set(connection, (names = new Set()));
    const { name, text, values } = this.statement;
    const stream = connection.stream as { cork?: () => void; uncork?: () => void };
    stream.cork?.();
    try {
      if (!names.has(name)) {
        // Closing a statement that does not exist is no error; after a failed attempt there is no
        // telling whether its Parse went through.
        connection.close({ type: 'S', name }, true);
        connection.parse({ name, text, types: [] }, true);
      }
      connection.bind({ statement: name, values: values.map(wire) }, true);
      connection.execute({ portal: '' }, true);
      connection.parse({ name: '', text: 'COMMIT', types: [] }, true);
      connection.bind({ statement: '', values: [] }, true);
      connection.execute({ portal: '' }, true);
      connection.sync();
    } finally {
      stream.uncork?.();
    }
  }

  handleCommandComplete(message: { text?: string }, connection: pg.Connection): void {
    this.commands += 1;
    if (this.commands > 1) return;
    this.rowCount = rowCountOf(message.text);
    prepared.get(connection)?.add(this.statement.name);
  }

  handleError(error: Error): void {
    this.failed = true;
    this.done(error, null);
  }

  handleReadyForQuery(): void {
    if (!this.failed) this.done(null, this.rowCount);
  }

  // Neither statement returns rows.
  handleRowDescription(): void {}
  handleDataRow(): void {}
  handleEmptyQuery(): void {}
  handlePortalSuspended(): void {}
}

/**
 * Run `statement` and COMMIT the open transaction in one round trip; resolves to the statement's
 * row count. When the statement fails the transaction is left aborted (ROLLBACK it); when COMMIT
 * fails the transaction is over, rolled back.
 */
export function statementThenCommit(client: pg.ClientBase, statement: NamedStatement): Promise<number | null> {
  return new Promise((resolve, reject) => {
    client.query(new StatementThenCommit(statement, (error, rowCount) => (error ? reject(error) : resolve(rowCount))));
  });
}
