// The performance issue's target rows, each beside what one `npm run bench` run measured: the
// start-up ratios (one run, same files), the in-process ratios of medians, the vault's ms over plain.

/** Every target row: what this run measured beside the target, and whether it holds. */
export function targetsTable({ startupRows, scanRows, getRows, vaultReport }) {
  const row = (file, command) =>
    startupRows.find((r) => r.file === file && r.command.startsWith(command));
  const scan = (label) => scanRows.find((r) => r.label === label)?.ratio;
  const ns = (label) => getRows.find((r) => r.label === label)?.ns;
  const floor = ns('await no-op async fn');
  const importRow = row('(no .env)', 'node -e "await import');
  const importBare = importRow && importRow.ms - importRow.ms / importRow.vsBare;
  const vaultOver = Number(
    /100 references, raw key file \| [\d.]+ \| \+?(-?[\d.]+) ms/.exec(vaultReport)?.[1],
  );
  const x = (v) => `${v.toFixed(2)}×`;
  const targets = [
    [
      'reference-free preload, 50 lines, vs `node -r dotenv/config`',
      row('50-line .env', 'node -r envmux/register')?.vsDotenv,
      1.0,
      x,
    ],
    [
      'reference-free preload, 1,000 lines, vs `node -r dotenv/config`',
      row('1,000-line .env', 'node -r envmux/register')?.vsDotenv,
      1.0,
      x,
    ],
    [
      '`--import envmux/register`, 20 refs, 0 ms async provider, vs bare',
      row('50 lines + 20 async refs', 'node --import envmux/register, 20 refs → memory @0 ms')
        ?.vsBare,
      1.6,
      x,
    ],
    [
      '`-r envmux/register`, same, vs bare',
      row('50 lines + 20 async refs', 'node -r envmux/register, 20 refs → memory @0 ms')?.vsBare,
      2.5,
      x,
    ],
    ["`import('envmux')`, ms over bare node", importBare, 15, (v) => `+${v.toFixed(1)} ms`],
    [
      'local vault, raw key, 100 references, over a plain 100-line file',
      vaultOver,
      5,
      (v) => `+${v.toFixed(1)} ms`,
    ],
    ['parse + scan vs `dotenv.parse`, 10,000 plain lines', scan('10,000 plain lines'), 1.1, x],
    ['parse + scan vs `dotenv.parse`, 10,000 references', scan('10,000 references'), 1.25, x],
    [
      'warm `resolver.get` vs an awaited no-op async function, audit off',
      ns('resolver.get (warm, audit off)') / floor,
      2,
      x,
    ],
    [
      'warm `resolver.get` vs an awaited no-op async function, audited',
      ns('resolver.get (warm, audited)') / floor,
      3,
      x,
    ],
  ];
  const lines = ['| path | measured | target | holds |', '|---|---:|---:|---|'];
  for (const [label, value, limit, format] of targets) {
    const ok = typeof value === 'number' && !Number.isNaN(value);
    lines.push(
      `| ${label} | ${ok ? format(value) : '—'} | ≤ ${format(limit)} | ${ok ? (value <= limit ? 'yes' : '**no**') : '—'} |`,
    );
  }
  return lines.join('\n');
}
