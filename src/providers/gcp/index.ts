// GCP Secret Manager (`gcp`), re-exports only.
export { type GcpProvider, type GcpProviderOptions, gcp } from './secret-manager.js';
