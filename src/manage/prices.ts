// The stores' published prices that `envmux plan` multiplies call counts by: USD per 10,000 read
// calls and per secret-month, with the page each figure comes from and the day it was read.

/** One store type's published prices (USD). */
export interface StorePrice {
  /** Provider type (`aws`, `gcp`, ...). */
  type: string;
  /** What the store is billed as. */
  product: string;
  /** USD per 10,000 read calls (0: no per-call charge). */
  per10kCalls: number;
  /** USD per stored secret per month (0: no storage charge). */
  perSecretMonth: number;
  /** What the figures assume, and what they leave out (free tiers, other tiers). */
  note: string;
  /** The pricing page. */
  source?: string;
  /** The day the figures were read from `source` (YYYY-MM-DD). */
  checked?: string;
}

/**
 * Published prices per store type. Self-hosted and local stores cost nothing per call. Figures
 * are list prices: free tiers, discounts and regional differences are not applied.
 */
export const STORE_PRICES: readonly StorePrice[] = [
  {
    type: 'aws',
    product: 'AWS Secrets Manager',
    per10kCalls: 0.05,
    perSecretMonth: 0.4,
    note: 'per API call (BatchGetSecretValue counts as one call); replicas billed as secrets',
    source: 'https://aws.amazon.com/secrets-manager/pricing/',
    checked: '2026-09-20',
  },
  {
    type: 'ssm',
    product: 'AWS Systems Manager Parameter Store',
    per10kCalls: 0,
    perSecretMonth: 0,
    note: 'standard parameters and standard throughput are free; advanced parameters cost $0.05 a parameter-month and higher throughput $0.05 per 10,000 calls',
    source: 'https://aws.amazon.com/systems-manager/pricing/',
    checked: '2026-11-29',
  },
  {
    type: 'gcp',
    product: 'Google Cloud Secret Manager',
    per10kCalls: 0.03,
    perSecretMonth: 0.06,
    note: 'per access operation; storage per active version per location; the first 10,000 operations and 6 versions a month are free',
    source: 'https://cloud.google.com/secret-manager/pricing',
    checked: '2026-11-29',
  },
  {
    type: 'azure',
    product: 'Azure Key Vault (standard)',
    per10kCalls: 0.03,
    perSecretMonth: 0,
    note: 'per transaction; secrets are not billed for storage; premium (HSM) keys cost more',
    source: 'https://azure.microsoft.com/pricing/details/key-vault/',
    checked: '2026-11-29',
  },
  ...['vault', 'k8s', 'local', 'env', 'file', 'memory', 'pass', 'op', 'bw', 'keychain'].map(
    (type): StorePrice => ({
      type,
      product: type,
      per10kCalls: 0,
      perSecretMonth: 0,
      note: 'self-hosted, local or per-seat: no per-call charge',
    }),
  ),
];

/** The price of a store type; `undefined` for a type with no published figure (a custom store). */
export function priceOf(type: string): StorePrice | undefined {
  return STORE_PRICES.find((p) => p.type === type);
}
