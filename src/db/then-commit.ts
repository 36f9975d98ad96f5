import type pg from 'pg';

/** A value bound to a parameter: sent as text, as pg would send it. */
export type BoundValue = string | number | boolean | Date | null;

export interface Statement {
  /**
   * Prepared once per connection under this name; without one, parsed again each time as the
   * unnamed statement (for connections whose prepared statements someone else may DEALLOCATE).
   */
  readonly name?: string;
  readonly text: string;
  readonly values: readonly BoundValue[];
}

export interface NamedStatement extends Statement {
  readonly name: string;
}

/** What the statement answered: its row count (from the command tag) and its first row, as text. */
export interface StatementResult {
  readonly rowCount: number | null;
  /** The first row's fields in the wire's text format (null for NULL), or null when it returned no row. */
  readonly firstRow: ReadonlyArray<string | null> | null;
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
  private firstRow: ReadonlyArray<string | null> | null = null;
  private commands = 0;
  private failed = false;

  constructor(
    private readonly statement: Statement,
    private readonly done: (error: Error | null, result: StatementResult | null) => void,
  ) {}

  submit(connection: pg.Connection): void {
    let names = prepared.get(connection);
    if (!names) prepared.set(connection, (names = new Set()));
    const { name = '', text, values } = this.statement;
    const stream = connection.stream as { cork?: () => void; uncork?: () => void };
    stream.cork?.();
    try {
      if (name === '') connection.parse({ name, text, types: [] }, true);
      else if (!names.has(name)) {
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
    if (this.statement.name) prepared.get(connection)?.add(this.statement.name);
  }

  handleError(error: Error): void {
    this.failed = true;
    this.done(error, null);
  }

  handleReadyForQuery(): void {
    if (!this.failed) this.done(null, { rowCount: this.rowCount, firstRow: this.firstRow });
  }

  // No Describe is sent: rows arrive without a description, their fields as text.
  handleRowDescription(): void {}
  handleDataRow(message: { fields?: Array<string | null> }): void {
    if (this.commands === 0 && this.firstRow === null) this.firstRow = message.fields ?? [];
  }
  handleEmptyQuery(): void {}
  handlePortalSuspended(): void {}
}

/**
 * Run `statement` and COMMIT the open transaction in one round trip; resolves to the statement's
 * row count. When the statement fails the transaction is left aborted (ROLLBACK it); when COMMIT
 * fails the transaction is over, rolled back.
 */
export async function statementThenCommit(client: pg.ClientBase, statement: NamedStatement): Promise<number | null> {
  return (await queryThenCommit(client, statement)).rowCount;
}

/**
 * Run `statement` and COMMIT the open transaction in one round trip; resolves to its row count and
 * first row. Failures as for statementThenCommit: a statement that fails leaves the transaction
 * aborted (and COMMIT is never run); a COMMIT that fails ends it, rolled back.
 */
export function queryThenCommit(client: pg.ClientBase, statement: Statement): Promise<StatementResult> {
  return new Promise((resolve, reject) => {
    client.query(new StatementThenCommit(statement, (error, result) => (error ? reject(error) : resolve(result as StatementResult))));
  });
}
