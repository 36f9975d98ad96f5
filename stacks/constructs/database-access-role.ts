import { Construct } from 'constructs';
import { IamRole } from '@cdktf/provider-aws/lib/iam-role/index.js';
import { IamRolePolicy } from '@cdktf/provider-aws/lib/iam-role-policy/index.js';
import { dbUserArn, policyDocument } from '../iam-document.ts';
import { ROLE_PURPOSE_TAG } from '../naming.ts';
import { MAX_HUMAN_SESSION_SECONDS } from '../promises.ts';

/** One database the role may log in to. */
export interface DatabaseTarget {
  readonly awsRegion: string;
  /** The instance's resource id (`db-...`), which rds-db ARNs use instead of its name. */
  readonly resourceId: string;
}

export interface DatabaseAccessRoleProps {
  readonly name: string;
  readonly description: string;
  /** Who may assume the role, and on what conditions (trust policy JSON). */
  readonly trustPolicy: string;
  readonly accountId: string;
  /** The one database user the role may log in as, through IAM database authentication. */
  readonly dbUser: string;
  readonly databases: readonly DatabaseTarget[];
  /** What the role is for; tagged so reviews and the policy pack can tell roles apart. */
  readonly purpose: string;
  /** Longest session in seconds; default 3600, IAM's minimum ceiling. */
  readonly maxSessionDurationSeconds?: number;
}

/**
 * A role whose only permission is `rds-db:connect` as one database user on the fleet's
 * instances: what it may do inside PostgreSQL is that user's grants, kept in the migrations.
 */
export class DatabaseAccessRole extends Construct {
  readonly role: IamRole;

  constructor(scope: Construct, id: string, props: DatabaseAccessRoleProps) {
    super(scope, id);
    this.role = new IamRole(this, 'role', {
      name: props.name,
      description: props.description,
      assumeRolePolicy: props.trustPolicy,
      maxSessionDuration: props.maxSessionDurationSeconds ?? MAX_HUMAN_SESSION_SECONDS,
      tags: { [ROLE_PURPOSE_TAG]: props.purpose },
    });
    new IamRolePolicy(this, 'connect', {
      name: 'rds-db-connect',
      role: this.role.id,
      policy: policyDocument({
        Sid: 'ConnectAsOneDatabaseUser',
        Effect: 'Allow',
        Action: 'rds-db:connect',
        Resource: props.databases.map((db) => dbUserArn(db.awsRegion, props.accountId, db.resourceId, props.dbUser)),
      }),
    });
  }
}
