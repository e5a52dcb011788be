import { RDSDataClient } from '@aws-sdk/client-rds-data'
import type { DataApiStandIn } from '@middy-downstream/testing'

export const resourceArn = 'arn:aws:rds:us-east-1:123456789012:cluster:local'
export const secretArn = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:local-AbCdEf'

/** The real SDK client, pointed at the local endpoint with dummy credentials; no SDK retries (ours decide). */
export const standInClient = (endpoint: DataApiStandIn, secretAccessKey = 'dummy-secret') =>
  new RDSDataClient({
    endpoint: endpoint.url,
    region: 'us-east-1',
    credentials: { accessKeyId: 'AKIDLOCAL', secretAccessKey },
    maxAttempts: 1,
  })
