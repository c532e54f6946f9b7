// The app imports a typed, frozen config; a bad value never gets this far.
import { config } from './config.mjs';

for (const [key, value] of Object.entries(config)) {
  const shown = key === 'DATABASE_URL' ? value.replace(/:[^:@/]+@/, ':***@') : value;
  console.log(
    `${key.padEnd(18)} ${typeof value === 'string' ? shown : `${value} (${typeof value})`}`,
  );
}
console.log('frozen:', Object.isFrozen(config));
