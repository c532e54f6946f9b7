// A file-system error on one of the user's own paths (vault, key file, .env, config) as a coded
// error naming the path and what to do. Never retryable: trying again cannot fix a path.
// (docs/architecture.md, "Error codes".)

import { EnvmuxError, isEnvmuxError } from '../errors.js';

/** errno → what happened, and what to do about it. */
const PROBLEMS: Record<string, [string, string]> = {
  ENOENT: ['does not exist (or its folder does not)', 'check the path'],
  ENOTDIR: [
    'cannot be used: a part of its path is a file, not a folder',
    'choose a path whose folders are folders',
  ],
  EEXIST: [
    'cannot be created: a part of its path is a file, not a folder',
    'choose a path whose folders are folders',
  ],
  EISDIR: ['is a folder, not a file', 'point at a file'],
  ENAMETOOLONG: ['has a name too long for the file system', 'use a shorter path'],
  ELOOP: ['is a loop of symbolic links', 'fix the links or use the real path'],
  EACCES: ['cannot be accessed: permission denied', 'check its owner and mode (ls -l)'],
  EPERM: ['cannot be accessed: operation not permitted', 'check its owner and mode (ls -l)'],
  EROFS: ['is on a read-only file system', 'use a writable location'],
  ENOSPC: ['cannot be written: the disk is full', 'free some space'],
  EDQUOT: ['cannot be written: the disk quota is exceeded', 'free some space'],
  EINVAL: ['cannot be used here (invalid argument)', 'choose a path on an ordinary file system'],
};

/**
 * `error` (from node:fs on `path`) as an EnvmuxError: `CONFIG` (`ACCESS_DENIED` for a permission
 * denial), with the path, the errno and a hint; not retryable. `what` names the path ("vault",
 * "key file", "env file"). EnvmuxErrors pass through unchanged.
 */
export function fileSystemProblem(
  error: unknown,
  what: string,
  shown: string,
  context: { file?: string; provider?: string; hint?: string } = {},
): EnvmuxError {
  if (isEnvmuxError(error)) return error;
  const errno = String((error as NodeJS.ErrnoException)?.code ?? '');
  const [happened, todo] = PROBLEMS[errno] ?? [
    `cannot be used${errno ? ` (${errno})` : ''}`,
    'check the path',
  ];
  const code = errno === 'EACCES' || errno === 'EPERM' ? 'ACCESS_DENIED' : 'CONFIG';
  return new EnvmuxError(code, `${what} ${shown} ${happened}${errno ? ` [${errno}]` : ''}`, {
    file: context.file ?? shown,
    ...(context.provider ? { provider: context.provider } : {}),
    hint: context.hint ?? todo,
    cause: error,
    retryable: false,
  });
}
