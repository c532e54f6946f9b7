#!/usr/bin/env node
// A stand-in for the Bitwarden CLI (`bw`) that tests put on PATH: `get item`, `list items --search`,
// `sync`, `status`, `config server`, over a JSON state file named by FAKE_BW_STATE. Reproduces:
// - https://bitwarden.com/help/cli/ ("get", "list", "sync", "status", "config"; BW_SESSION unlocks;
//   --nointeraction never prompts; `bw get item <id|search>` prints the item's JSON)
// - the CLI's Response.error messages on stderr with exit code 1: `Not found.`,
//   `More than one result was found. Try getting a specific object by \`id\` instead. The following
//   objects were found:` (then the ids), `Vault is locked.`, `You are not logged in.`
// - search as the CLI's basic search does it: an exact id (trashed items too), else names containing
//   the text (any case) among items not in the trash; `list items` leaves the trash out unless --trash
// - writes (https://bitwarden.com/help/cli/ "create", "edit", "delete", and the CLI's
//   create.command.ts / edit.command.ts): `bw create item [encodedJson]` and `bw edit item <id>
//   [encodedJson]` read the base64-encoded item JSON from stdin when the argument is absent and
//   print the saved item; `bw delete item <id>` moves it to the trash, `--permanent` deletes it.
const fs = require('node:fs');
const { randomUUID } = require('node:crypto');

const state = JSON.parse(fs.readFileSync(process.env.FAKE_BW_STATE, 'utf8'));
const argv = process.argv.slice(2);
if (state.log) fs.appendFileSync(state.log, `${JSON.stringify(argv)}\n`);

function fail(message) {
  process.stderr.write(`${message}\n`);
  process.exit(1);
}
function save() {
  const { log, ...rest } = state;
  fs.writeFileSync(process.env.FAKE_BW_STATE, JSON.stringify({ ...rest, log }));
}

function unlocked() {
  if (state.fault === 'TIMEOUT') {
    setInterval(() => {}, 1000);
    return false;
  }
  if (state.fault === 'THROTTLED') fail('Too many requests. Try again later. (429)');
  if (state.fault === 'ACCESS_DENIED') fail('Forbidden (403): access denied');
  if (state.fault === 'UNAVAILABLE')
    fail('request to https://vault.example/api/sync failed, reason: connect ECONNREFUSED');
  if (state.fault === 'AUTH_FAILED' || !state.loggedIn) fail('You are not logged in.');
  if (process.env.BW_SESSION !== state.session) fail('Vault is locked.');
  return true;
}

const args = argv.filter((a) => a !== '--nointeraction' && a !== '--raw');
const [command, object, ...rest] = args;
const live = () => state.items.filter((i) => !i.deletedDate);
const search = (text) => {
  const byId = state.items.filter((i) => i.id === text);
  if (byId.length) return byId;
  return live().filter((i) => i.name.toLowerCase().includes(text.toLowerCase()));
};
/** The request JSON: the argument, else stdin (base64 of the item JSON either way). */
function request(arg, then) {
  const decode = (text) => {
    let item;
    try {
      item = JSON.parse(Buffer.from(text, 'base64').toString('utf8'));
    } catch {
      fail('Error parsing the encoded request data.');
    }
    then(item);
  };
  if (arg) return decode(arg);
  let text = '';
  process.stdin.setEncoding('utf8');
  process.stdin.on('data', (c) => (text += c));
  process.stdin.on('end', () => {
    if (text === '') fail('`requestJson` was not provided.');
    decode(text);
  });
}

if (command === 'config' && object === 'server') {
  process.stdout.write(`${state.server}\n`);
} else if (command === 'status') {
  const status = !state.loggedIn
    ? 'unauthenticated'
    : process.env.BW_SESSION === state.session
      ? 'unlocked'
      : 'locked';
  process.stdout.write(JSON.stringify({ serverUrl: state.server, status }));
} else if (command === 'sync') {
  if (unlocked()) {
    state.items = state.remote ?? state.items;
    state.syncs = (state.syncs ?? 0) + 1;
    save();
    process.stdout.write('Syncing complete.\n');
  }
} else if (command === 'get' && object === 'item') {
  if (unlocked()) {
    const found = search(rest[0]);
    if (found.length === 0) fail('Not found.');
    if (found.length > 1)
      fail(
        `More than one result was found. Try getting a specific object by \`id\` instead. The following objects were found:\n${found.map((i) => i.id).join('\n')}`,
      );
    // A misbehaving CLI (fault ECHO): the item it read, on stderr, and a failure.
    if (state.fault === 'ECHO') fail(`unexpected: ${JSON.stringify(found[0])}`);
    process.stdout.write(JSON.stringify(found[0]));
  }
} else if (command === 'list' && object === 'items') {
  if (unlocked()) {
    const at = rest.indexOf('--search');
    const trash = rest.includes('--trash');
    const pool = at >= 0 ? search(rest[at + 1]) : live();
    process.stdout.write(JSON.stringify(trash ? state.items.filter((i) => i.deletedDate) : pool));
  }
} else if (command === 'create' && object === 'item') {
  if (unlocked())
    request(rest[0], (item) => {
      if (typeof item.name !== 'string' || item.name === '') fail('Name is required.');
      const saved = { ...item, id: randomUUID(), deletedDate: null };
      state.items.push(saved);
      save();
      process.stdout.write(JSON.stringify(saved));
    });
} else if (command === 'edit' && object === 'item') {
  if (unlocked()) {
    const id = rest[0];
    const at = state.items.findIndex((i) => i.id === id);
    if (at < 0) fail('Not found.');
    request(rest[1], (item) => {
      const saved = { ...state.items[at], ...item, id };
      state.items[at] = saved;
      save();
      process.stdout.write(JSON.stringify(saved));
    });
  }
} else if (command === 'delete' && object === 'item') {
  if (unlocked()) {
    const at = state.items.findIndex((i) => i.id === rest[0]);
    if (at < 0) fail('Not found.');
    if (rest.includes('--permanent')) state.items.splice(at, 1);
    else state.items[at].deletedDate = new Date().toISOString();
    save();
  }
} else {
  fail(`error: unknown command '${command}'`);
}
