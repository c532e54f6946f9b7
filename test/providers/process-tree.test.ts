// Killing a store tool with what it started: a shell script's children are found below it and
// killed with it (the tool stays in our process group, so none of this relies on groups).

import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { killProcessTree, processTree } from '../../src/providers/process-tree.js';

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe.skipIf(process.platform === 'win32')('processTree / killProcessTree', () => {
  it('finds a script and the processes it started, and kills them all', async () => {
    // Like `pass`: a shell that runs a long child (and one in the background).
    const script = spawn('sh', ['-c', 'sleep 300 & sleep 300; wait'], { stdio: 'ignore' });
    let tree: number[] = [];
    for (let i = 0; i < 100 && tree.length < 3; i++) {
      await new Promise((r) => setTimeout(r, 20));
      tree = processTree(script.pid!);
    }
    expect(tree[0]).toBe(script.pid);
    expect(tree).toHaveLength(3);
    const exited = new Promise((r) => script.once('exit', r));
    killProcessTree(script.pid!);
    await exited;
    for (let i = 0; i < 100 && tree.some(alive); i++) await new Promise((r) => setTimeout(r, 20));
    expect(tree.filter(alive)).toEqual([]);
  });

  it('a pid that is gone is not an error', () => {
    expect(() => killProcessTree(2 ** 22 + 12345)).not.toThrow();
  });
});
