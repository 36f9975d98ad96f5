/**
 * AWS regions the fleet may use and the legal jurisdiction each lies in. Backups are copied
 * off-site only within one jurisdiction (the statement's hosting-location promise), so the
 * validator checks a region and its off-site region against this table.
 */
export const AWS_REGION_JURISDICTIONS: Readonly<Record<string, string>> = {
  'us-east-1': 'US',
  'us-east-2': 'US',
  'us-west-1': 'US',
  'us-west-2': 'US',
  'ca-central-1': 'CA',
  'ca-west-1': 'CA',
  'eu-central-1': 'EU',
  'eu-central-2': 'CH',
  'eu-west-1': 'EU',
  'eu-west-2': 'UK',
  'eu-west-3': 'EU',
  'eu-north-1': 'EU',
  'eu-south-1': 'EU',
  'eu-south-2': 'EU',
  'ap-southeast-2': 'AU',
  'ap-southeast-4': 'AU',
  'ap-northeast-1': 'JP',
  'ap-northeast-3': 'JP',
  'ap-northeast-2': 'KR',
  'ap-southeast-1': 'SG',
  'ap-south-1': 'IN',
  'ap-south-2': 'IN',
  'sa-east-1': 'BR',
};

export function jurisdictionOf(awsRegion: string): string | undefined {
  return AWS_REGION_JURISDICTIONS[awsRegion];
}
