import { S3Backend, type TerraformStack } from 'cdktf';
import type { FleetConfig } from '../src/config/schema.ts';
import { stateKey } from './naming.ts';

/**
 * Keep a stack's state in the description's bucket, encrypted, with S3-native locking.
 * cdktf 0.21's S3Backend predates `use_lockfile` (Terraform 1.10+), so it goes in as an override;
 * that needs no DynamoDB table, which Terraform has deprecated for S3 locking.
 */
export function useS3State(stack: TerraformStack, fleet: Pick<FleetConfig, 'state'>, stackName: string): S3Backend {
  const backend = new S3Backend(stack, {
    bucket: fleet.state.bucket,
    key: stateKey(fleet, stackName),
    region: fleet.state.awsRegion,
    encrypt: true,
  });
  stack.addOverride('terraform.backend.s3.use_lockfile', true);
  return backend;
}
