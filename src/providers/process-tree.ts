// Killing a store tool together with what it started: `pass` is a shell script whose `gpg` outlives
// a kill of the script alone. The tool stays in our process group, so a terminal's Ctrl-C reaches it.

import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

/** Parent pid of every process, from /proc (Linux) or `ps` (other POSIX systems). */
function parents(): Map<number, number> {
  const out = new Map<number, number>();
  if (process.platform === 'linux') {
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      try {
        // `pid (comm) state ppid …`: the command name may hold spaces and parentheses.
        const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
        const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
        out.set(Number(entry), ppid);
      } catch {
        // Ended meanwhile.
      }
    }
    return out;
  }
  const listed = spawnSync('ps', ['-A', '-o', 'pid=', '-o', 'ppid='], {
    encoding: 'utf8',
    timeout: 2000,
  });
  for (const line of listed.stdout?.split('\n') ?? []) {
    const [pid, ppid] = line.trim().split(/\s+/).map(Number);
    if (pid && ppid !== undefined) out.set(pid, ppid);
  }
  return out;
}

/** `pid` and every process below it, parents before children. */
export function processTree(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const [child, parent] of parents()) {
    const list = children.get(parent);
    if (list) list.push(child);
    else children.set(parent, [child]);
  }
  const tree = [pid];
  for (let i = 0; i < tree.length; i++) tree.push(...(children.get(tree[i]!) ?? []));
  return tree;
}

/** SIGKILL `pid` and everything below it (Windows: `taskkill /T`). Never throws. */
export function killProcessTree(pid: number): void {
  if (process.platform === 'win32') {
    spawnSync('taskkill', ['/T', '/F', '/PID', String(pid)], { windowsHide: true, timeout: 2000 });
    return;
  }
  let tree: number[];
  try {
    tree = processTree(pid);
  } catch {
    tree = [pid];
  }
  for (const member of tree) {
    try {
      process.kill(member, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
}
