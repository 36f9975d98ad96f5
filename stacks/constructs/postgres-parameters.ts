import { Construct } from 'constructs';
import { DbParameterGroup } from '@cdktf/provider-aws/lib/db-parameter-group/index.js';

export interface PostgresParametersProps {
  readonly namePrefix: string;
  /** Engine version from the description, e.g. `17` or `16.4`; its major picks the family. */
  readonly engineVersion: string;
  /** Statements slower than this are logged, in milliseconds; default 1000. */
  readonly slowStatementMs?: number;
}

/** `17.2` -> `postgres17`: parameter groups are per major version. */
export function parameterGroupFamily(engineVersion: string): string {
  const major = engineVersion.split('.')[0];
  return `postgres${major}`;
}

/**
 * Server settings the statement relies on: TLS required for every connection, and enough logging
 * (slow statements, connections, lock waits, pg_stat_statements) to investigate an incident.
 */
export class PostgresParameters extends Construct {
  readonly group: DbParameterGroup;

  constructor(scope: Construct, id: string, props: PostgresParametersProps) {
    super(scope, id);
    const family = parameterGroupFamily(props.engineVersion);
    this.group = new DbParameterGroup(this, 'group', {
      // The family is in the name so a major upgrade creates a new group beside the old one.
      name: `${props.namePrefix}-${family}`,
      family,
      description: `TLS required, statement logging: ${props.namePrefix}`,
      parameter: [
        { name: 'rds.force_ssl', value: '1', applyMethod: 'immediate' },
        { name: 'log_min_duration_statement', value: String(props.slowStatementMs ?? 1000), applyMethod: 'immediate' },
        { name: 'log_connections', value: '1', applyMethod: 'immediate' },
        { name: 'log_lock_waits', value: '1', applyMethod: 'immediate' },
        // Static parameter: takes effect at the next reboot, which creation includes.
        { name: 'shared_preload_libraries', value: 'pg_stat_statements', applyMethod: 'pending-reboot' },
      ],
      lifecycle: { createBeforeDestroy: true },
    });
  }
}
