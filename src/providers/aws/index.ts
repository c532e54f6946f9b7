// AWS stores: Secrets Manager (`aws`) and SSM Parameter Store (`ssm`), re-exports only.
export { type AwsProviderOptions, aws, awsFromEnv } from './secrets-manager.js';
export { type SsmProviderOptions, ssm, ssmFromEnv } from './ssm.js';
