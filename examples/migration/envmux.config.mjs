// Two stores for the migration: `old` (where the plain .env goes first) and `new` (where the team
// is moving). Both are local vaults here so the example runs anywhere; with `new` on AWS or Vault
// the commands are the same. MIGRATION_STAGE picks the chain a load walks.
import { local } from 'envmux/providers';

const old = local({ id: 'old', path: 'old/vault.json' });
const next = local({ id: 'new', path: 'new/vault.json' });

const chains = {
  old: [old, next], // before the move: everything is in `old` (`new` is listed for the CLI)
  dual: [next, old], // while copying: read `new` first, fall back to `old`
  cutover: [next], // after: `old` is gone from the chain
};
export default { providers: chains[process.env.MIGRATION_STAGE ?? 'old'] };
