#!/usr/bin/env node
// A stand-in for the 1Password CLI (`op` 2.x) that tests put on PATH: `read`, `inject`, `whoami`,
// over a JSON state file named by FAKE_OP_STATE. Reproduces the documented behaviour and messages of:
// - https://developer.1password.com/docs/cli/reference/commands/read (`op read [--no-newline] <ref>`,
//   value on stdout, trailing newline unless --no-newline)
// - https://developer.1password.com/docs/cli/reference/commands/inject (template on stdin,
//   `{{ op://vault/item/field }}` replaced, output on stdout; any unresolvable reference fails the run)
// - https://developer.1password.com/docs/cli/secret-reference-syntax (vault/item/[section/]field)
// - https://developer.1password.com/docs/service-accounts/use-with-1password-cli (OP_SERVICE_ACCOUNT_TOKEN)
// - messages as the CLI prints them: `[ERROR] YYYY/MM/DD hh:mm:ss <message>` on stderr, exit 1;
//   `"x" isn't an item in the "v" vault. Specify the item with its UUID, name, or domain.`,
//   `"v" isn't a vault in this account. Specify the vault with its ID or name.`,
//   `item 'v/i' does not have a field 'f'`, `More than one item matches "x". ...`,
//   `You are not currently signed in. Please run \`op signin --help\` for instructions`,
//   `error initializing client: authorization prompt dismissed, please try again` (app locked).
const fs = require('node:fs');

const state = JSON.parse(fs.readFileSync(process.env.FAKE_OP_STATE, 'utf8'));
const argv = process.argv.slice(2);
if (state.log) fs.appendFileSync(state.log, `${JSON.stringify(argv)}\n`);

function fail(message) {
  const d = new Date().toISOString().replace('T', ' ').slice(0, 19).replaceAll('-', '/');
  process.stderr.write(`[ERROR] ${d} ${message}\n`);
  process.exit(1);
}

function session() {
  if (state.fault === 'TIMEOUT') setInterval(() => {}, 1000);
  if (state.fault === 'TIMEOUT') return false;
  if (state.fault === 'THROTTLED')
    fail('(429) Too Many Requests: rate limit exceeded, try again later');
  if (state.fault === 'ACCESS_DENIED')
    fail("(403) Forbidden: you don't have permission to access this vault");
  if (state.fault === 'UNAVAILABLE') fail('(503) Service Unavailable: please try again later');
  if (state.fault === 'AUTH_FAILED' || !state.signedIn)
    fail('You are not currently signed in. Please run `op signin --help` for instructions');
  if (state.token && process.env.OP_SERVICE_ACCOUNT_TOKEN !== state.token)
    fail('invalid service account token: the token is invalid or has been revoked');
  if (state.locked)
    fail('error initializing client: authorization prompt dismissed, please try again');
  return true;
}

/** The value of a reference, or the message `op` prints for it. */
function resolve(ref) {
  const parts = ref
    .replace(/^op:\/\//, '')
    .split('?')[0]
    .split('/');
  if (parts.length < 3 || parts.length > 4) return { error: `invalid secret reference '${ref}'` };
  const [vault, item] = parts;
  const field = parts[parts.length - 1];
  const v = state.vaults[vault];
  if (!v)
    return {
      error: `"${vault}" isn't a vault in this account. Specify the vault with its ID or name.`,
    };
  const it = v[item];
  if (!it)
    return {
      error: `could not read secret '${ref}': could not get item ${vault}/${item}: "${item}" isn't an item in the "${vault}" vault. Specify the item with its UUID, name, or domain.`,
    };
  if (it.__duplicates)
    return {
      error: `More than one item matches "${item}". Try again and specify the item by its ID:\n\t* for the item "${item}" in vault ${vault}: abcdefghijklmnopqrstuvwxyz\n\t* for the item "${item}" in vault ${vault}: zyxwvutsrqponmlkjihgfedcba`,
    };
  if (!Object.hasOwn(it, field))
    return {
      error: `could not read secret '${ref}': item '${vault}/${item}' does not have a field '${field}'`,
    };
  return { value: it[field] };
}

const args = [];
for (let i = 0; i < argv.length; i++) {
  if (argv[i] === '--account') i++;
  else if (argv[i] !== '--') args.push(argv[i]);
}
const command = args[0];
if (command === 'whoami') {
  if (session())
    process.stdout.write('URL:        https://my.1password.com\nUser Type:  SERVICE_ACCOUNT\n');
} else if (command === 'read') {
  const noNewline = args.includes('--no-newline') || args.includes('-n');
  const ref = args.filter((a) => !a.startsWith('-'))[1];
  if (session()) {
    const r = resolve(ref);
    if (r.error) fail(r.error);
    process.stdout.write(noNewline ? r.value : `${r.value}\n`);
  }
} else if (command === 'inject') {
  let template = '';
  process.stdin.setEncoding('utf8');
  process.stdin.on('data', (c) => (template += c));
  process.stdin.on('end', () => {
    if (!session()) return;
    let error;
    const out = template.replace(/\{\{\s*(op:\/\/[^}]+?)\s*\}\}/g, (_, ref) => {
      const r = resolve(ref);
      if (r.error) error ??= r.error;
      return r.value ?? '';
    });
    if (error) fail(error);
    process.stdout.write(out);
  });
} else {
  fail(`unknown command "${command}" for "op"`);
}
