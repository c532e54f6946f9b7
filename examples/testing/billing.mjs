// The application code under test: a billing client that reads its API key from the secret store at
// run time (through an envmux resolver it is given) and turns store problems into its own errors.

import { isEnvmuxError } from 'envmux';

/** A billing client; `secrets` is an envmux resolver (`createResolver(...)`). */
export function createBilling({ secrets }) {
  return {
    /** The Authorization header for the payment API. */
    async authHeader() {
      try {
        return `Bearer ${await secrets.get('billing/api-key')}`;
      } catch (error) {
        if (isEnvmuxError(error) && error.retryable) {
          // Say what happened, with the store's code; never the key.
          throw new Error(`billing is unavailable: secret store ${error.code}`, { cause: error });
        }
        throw error;
      }
    },
  };
}
