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
// - writes as 1Password's own Terraform provider drives them (op ≥ 2.23) and the "Item JSON template"
//   page describes: `op item get <item> --vault V --format json` (the item JSON), `op item create
//   --vault V --format json -` and `op item edit <id> --vault V --format json` with the item JSON on
//   stdin (the whole item: fields left out are removed), `op item delete <id> --vault V [--archive]`,
//   `op item list --vault V --format json`, `op vault list --format json`. Creating a title that
//   exists makes a second item of that title, as 1Password does.
// The state keeps each item as { label: value }; its JSON gets a stable id and CONCEALED fields.
const fs = require('node:fs');
const { createHash } = require('node:crypto');

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
const flag = (name) => {
  const at = args.indexOf(`--${name}`);
  return at >= 0 ? args[at + 1] : undefined;
};
const positional = args.filter((a, i) => !a.startsWith('--') && !args[i - 1]?.startsWith('--'));
const idOf = (vault, title) =>
  createHash('sha256').update(`${vault}/${title}`).digest('hex').slice(0, 26);
const save = () => {
  const { log, ...rest } = state;
  fs.writeFileSync(process.env.FAKE_OP_STATE, JSON.stringify({ ...rest, log }));
};
function vaultOf(name) {
  const v = state.vaults[name];
  if (!v) fail(`"${name}" isn't a vault in this account. Specify the vault with its ID or name.`);
  return v;
}
function titleOf(vault, v, ref) {
  const title = Object.keys(v).find((t) => t === ref || idOf(vault, t) === ref);
  if (title === undefined)
    fail(
      `"${ref}" isn't an item in the "${vault}" vault. Specify the item with its UUID, name, or domain.`,
    );
  if (v[title].__duplicates)
    fail(`More than one item matches "${ref}". Try again and specify the item by its ID.`);
  return title;
}
function itemJson(vault, title) {
  const it = state.vaults[vault][title];
  return {
    id: idOf(vault, title),
    title,
    category: 'PASSWORD',
    vault: { id: idOf('vault', vault), name: vault },
    fields: Object.entries(it)
      .filter(([k]) => !k.startsWith('__'))
      .map(([label, value]) => ({ id: label, type: 'CONCEALED', label, value })),
  };
}
function withStdin(then) {
  let text = '';
  process.stdin.setEncoding('utf8');
  process.stdin.on('data', (c) => (text += c));
  process.stdin.on('end', () => {
    let item;
    try {
      item = JSON.parse(text);
    } catch {
      fail('invalid JSON in piped input');
    }
    then(item);
  });
}
const flatten = (item) => {
  const out = {};
  for (const f of item.fields ?? []) {
    const label = f.label || f.id;
    if (label && typeof f.value === 'string' && !Object.hasOwn(out, label)) out[label] = f.value;
  }
  return out;
};
if (command === 'vault' && args[1] === 'list') {
  if (session())
    process.stdout.write(
      JSON.stringify(Object.keys(state.vaults).map((name) => ({ id: idOf('vault', name), name }))),
    );
} else if (command === 'item' && args[1] === 'list') {
  if (session()) {
    const vault = flag('vault');
    const v = vaultOf(vault);
    process.stdout.write(
      JSON.stringify(Object.keys(v).map((title) => ({ id: idOf(vault, title), title }))),
    );
  }
} else if (command === 'item' && args[1] === 'get') {
  if (session()) {
    const vault = flag('vault');
    const title = titleOf(vault, vaultOf(vault), positional[2]);
    process.stdout.write(JSON.stringify(itemJson(vault, title)));
  }
} else if (command === 'item' && args[1] === 'create') {
  if (session()) {
    const vault = flag('vault');
    const v = vaultOf(vault);
    withStdin((item) => {
      if (typeof item.title !== 'string' || item.title === '') fail('an item needs a title');
      if (v[item.title]) v[item.title] = { __duplicates: true };
      else v[item.title] = flatten(item);
      save();
      process.stdout.write(JSON.stringify(itemJson(vault, item.title)));
    });
  }
} else if (command === 'item' && args[1] === 'edit') {
  if (session()) {
    const vault = flag('vault');
    const v = vaultOf(vault);
    const title = titleOf(vault, v, positional[2]);
    withStdin((item) => {
      v[title] = flatten(item);
      save();
      process.stdout.write(JSON.stringify(itemJson(vault, title)));
    });
  }
} else if (command === 'item' && args[1] === 'delete') {
  if (session()) {
    const vault = flag('vault');
    const v = vaultOf(vault);
    const title = titleOf(vault, v, positional[2]);
    if (args.includes('--archive')) {
      state.archive = state.archive ?? [];
      state.archive.push({ vault, title, item: v[title] });
    }
    delete v[title];
    save();
  }
} else if (command === 'whoami') {
  if (session())
    process.stdout.write('URL:        https://my.1password.com\nUser Type:  SERVICE_ACCOUNT\n');
} else if (command === 'read') {
  const noNewline = args.includes('--no-newline') || args.includes('-n');
  const ref = args.filter((a) => !a.startsWith('-'))[1];
  if (session()) {
    const r = resolve(ref);
    if (r.error) fail(r.error);
    // A misbehaving CLI (fault ECHO): the value it read, on stderr, and a failure.
    if (state.fault === 'ECHO')
      fail(`unexpected response: ${JSON.stringify(r.value)} (${r.value})`);
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
    if (state.fault === 'ECHO') fail(`unexpected response: ${out}`);
    process.stdout.write(out);
  });
} else {
  fail(`unknown command "${command}" for "op"`);
}
