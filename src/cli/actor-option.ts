// `--actor NAME` on every command that reads or writes secrets: who acts, recorded as the audit
// entries' actor and, where a store keeps one, the writer of a version. It sets ENVMUX_ACTOR for
// the command (and the process `run` starts); without it, ENVMUX_ACTOR or else the OS user.

import type { Command } from 'commander';
import { errorLine } from './colour.js';

/** Commands whose own `--actor` means something else (`audit --actor` filters entries). */
const OWN_ACTOR_OPTION = new Set(['audit']);
/** Commands that touch no secret. */
const NO_ACTOR = new Set(['completion', 'help']);

const withActor = new WeakSet<Command>();

/** Why `name` cannot be an actor, or `undefined` when it can. */
export function actorProblem(name: string): string | undefined {
  if (!name.trim()) return 'is empty';
  if (name.length > 128) return 'is longer than 128 characters';
  if (/[\u0000-\u001f\u007f-\u009f]/.test(name)) return 'holds control characters';
  return undefined;
}

/** Give every leaf command `--actor`, and apply it before the command's action runs. */
export function addActorOption(program: Command): void {
  const visit = (command: Command) => {
    for (const sub of command.commands) {
      if (NO_ACTOR.has(sub.name())) continue;
      if (sub.commands.length) visit(sub);
      else if (!OWN_ACTOR_OPTION.has(sub.name())) {
        sub.option(
          '--actor <name>',
          'who acts, for the audit log and version history (default: ENVMUX_ACTOR, else the OS user)',
        );
        withActor.add(sub);
      }
    }
  };
  visit(program);
  program.hook('preAction', (_program, action) => {
    if (!withActor.has(action)) return;
    const actor = action.opts().actor;
    if (typeof actor !== 'string') return;
    const problem = actorProblem(actor);
    if (problem) {
      process.stderr.write(
        errorLine(
          'CONFIG',
          `--actor ${problem}`,
          'e.g. --actor ci:deploy (at most 128 characters)',
        ),
      );
      process.exit(2);
    }
    process.env.ENVMUX_ACTOR = actor;
  });
}
