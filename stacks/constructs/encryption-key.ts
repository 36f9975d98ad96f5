import { Construct } from 'constructs';
import type { TerraformProvider } from 'cdktf';
import { KmsKey } from '@cdktf/provider-aws/lib/kms-key/index.js';
import { KmsAlias } from '@cdktf/provider-aws/lib/kms-alias/index.js';
import { policyDocument, type PolicyStatement } from '../iam-document.ts';

export interface EncryptionKeyProps {
  /** Alias without the `alias/` prefix, e.g. `expium-addon-eu`. */
  readonly alias: string;
  readonly description: string;
  readonly accountId: string;
  /** Region the key lives in; it is the provider's region. */
  readonly awsRegion: string;
  /** Provider of the key's region; default: the stack's default AWS provider. */
  readonly provider?: TerraformProvider;
  /**
   * CloudWatch Logs log-group names (patterns allowed) that may encrypt with the key; Logs is the
   * one service here that needs the key policy to name it. Default: none.
   */
  readonly logGroupNames?: readonly string[];
  /**
   * Let EventBridge publish to SNS topics encrypted with the key (the form EventBridge documents:
   * a service publisher needs the key policy to name it). Default: no.
   */
  readonly eventBridgePublishes?: boolean;
  /** Days KMS waits before deleting a scheduled key; default 30, the maximum, to allow a change of mind. */
  readonly deletionWindowInDays?: number;
}

/**
 * A customer-managed key with yearly rotation. Its policy delegates to IAM in this account (the
 * AWS default, without which the key becomes unmanageable) and lets CloudWatch Logs use it only
 * for the named log groups; RDS, Secrets Manager and AWS Backup use it through grants.
 */
export class EncryptionKey extends Construct {
  readonly key: KmsKey;
  readonly alias: KmsAlias;

  constructor(scope: Construct, id: string, props: EncryptionKeyProps) {
    super(scope, id);
    const statements: PolicyStatement[] = [
      {
        Sid: 'AccountAdministersKeyThroughIam',
        Effect: 'Allow',
        Principal: { AWS: `arn:aws:iam::${props.accountId}:root` },
        Action: 'kms:*',
        Resource: '*',
      },
    ];
    const logGroups = props.logGroupNames ?? [];
    if (logGroups.length > 0) {
      statements.push({
        Sid: 'CloudWatchLogsEncryptsTheseLogGroups',
        Effect: 'Allow',
        Principal: { Service: `logs.${props.awsRegion}.amazonaws.com` },
        Action: ['kms:Encrypt*', 'kms:Decrypt*', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:Describe*'],
        Resource: '*',
        Condition: {
          ArnLike: {
            'kms:EncryptionContext:aws:logs:arn': logGroups.map(
              (name) => `arn:aws:logs:${props.awsRegion}:${props.accountId}:log-group:${name}`,
            ),
          },
        },
      });
    }
    if (props.eventBridgePublishes === true) {
      statements.push({
        Sid: 'EventBridgePublishesToEncryptedTopics',
        Effect: 'Allow',
        Principal: { Service: 'events.amazonaws.com' },
        Action: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        Resource: '*',
      });
    }
    this.key = new KmsKey(this, 'key', {
      ...(props.provider ? { provider: props.provider } : {}),
      description: props.description,
      enableKeyRotation: true,
      deletionWindowInDays: props.deletionWindowInDays ?? 30,
      policy: policyDocument(...statements),
    });
    this.alias = new KmsAlias(this, 'alias', {
      ...(props.provider ? { provider: props.provider } : {}),
      name: `alias/${props.alias}`,
      targetKeyId: this.key.keyId,
    });
  }
}
