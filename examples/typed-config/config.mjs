// The app's one config object: read .env, resolve every reference, validate and coerce with zod.
import { loadConfig } from 'envmux';
import { z } from 'zod';

export const config = await loadConfig({
  schema: z.object({
    PORT: z.coerce.number().int().min(1).max(65535),
    DEBUG: z.stringbool().default(false),
    DATABASE_URL: z.url(),
    POOL_SIZE: z.coerce.number().int().min(1).max(100),
    REQUEST_TIMEOUT_MS: z.coerce.number().int().positive(),
  }),
});
