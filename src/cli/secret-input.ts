// Reading a secret for the CLI: all of stdin when it is piped, else a no-echo prompt on the terminal
// (raw mode; the prompt goes to stderr). Never from argv, never echoed, never logged.

import { EnvmuxError } from '../errors.js';

/** All of stdin as UTF-8. */
export async function readStdin(stream: NodeJS.ReadableStream = process.stdin): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream)
    chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk));
  const text = Buffer.concat(chunks).toString('utf8');
  for (const chunk of chunks) chunk.fill(0);
  return text;
}

/** Strip one trailing newline (`echo value |` and here-strings add one). */
export function stripOneNewline(text: string): string {
  if (text.endsWith('\r\n')) return text.slice(0, -2);
  return text.endsWith('\n') ? text.slice(0, -1) : text;
}

/** Ask on the terminal without echo; Enter ends, Backspace and Ctrl-U edit, Ctrl-C / Ctrl-D cancel. */
export function promptHidden(question: string): Promise<string> {
  const stdin = process.stdin;
  return new Promise((resolve, reject) => {
    let value = '';
    process.stderr.write(question);
    const wasRaw = stdin.isRaw;
    stdin.setRawMode(true);
    stdin.setEncoding('utf8');
    stdin.resume();
    const finish = (error?: EnvmuxError) => {
      stdin.off('data', onData);
      stdin.setRawMode(wasRaw);
      stdin.pause();
      process.stderr.write('\n');
      if (error) reject(error);
      else resolve(value);
    };
    const onData = (chunk: string) => {
      for (const ch of chunk) {
        if (ch === '\r' || ch === '\n') return finish();
        if (ch === '\u0003' || (ch === '\u0004' && !value)) {
          return finish(new EnvmuxError('CONFIG', 'cancelled', { retryable: false }));
        }
        if (ch === '\u0004') return finish();
        if (ch === '\u007f' || ch === '\b') value = [...value].slice(0, -1).join('');
        else if (ch === '\u0015') value = '';
        else if (ch >= ' ') value += ch;
      }
    };
    stdin.on('data', onData);
  });
}

/**
 * Ask a yes/no question on the terminal (stderr); true only for `y` or `yes`. Call only when stdin
 * is a TTY.
 */
export function promptYesNo(question: string): Promise<boolean> {
  const stdin = process.stdin;
  return new Promise((resolve) => {
    let answer = '';
    process.stderr.write(`${question} [y/N] `);
    stdin.setEncoding('utf8');
    stdin.resume();
    const onData = (chunk: string) => {
      answer += chunk;
      if (!answer.includes('\n') && !answer.includes('\r')) return;
      stdin.off('data', onData);
      stdin.pause();
      resolve(/^\s*y(es)?\s*$/i.test(answer.split(/[\r\n]/)[0] ?? ''));
    };
    stdin.on('data', onData);
  });
}

export interface SecretInputOptions {
  /** The prompt on a terminal. */
  prompt: string;
  /** On a terminal, ask twice and require the same answer. */
  confirm?: boolean;
  /** Keep a piped value's trailing newline. */
  keepNewline?: boolean;
  /** Accept an empty value. */
  allowEmpty?: boolean;
}

/** A secret from stdin (piped) or a no-echo prompt (terminal). */
export async function readSecret(options: SecretInputOptions): Promise<string> {
  let value: string;
  if (!process.stdin.isTTY) {
    const text = await readStdin();
    value = options.keepNewline ? text : stripOneNewline(text);
  } else {
    value = await promptHidden(options.prompt);
    if (options.confirm) {
      const again = await promptHidden('Again: ');
      if (again !== value)
        throw new EnvmuxError('CONFIG', 'the two entries differ; nothing changed');
    }
  }
  if (!value && !options.allowEmpty) {
    throw new EnvmuxError('CONFIG', 'empty value; nothing changed', {
      hint: process.stdin.isTTY
        ? 'type the value at the prompt'
        : 'pipe the value on stdin: printf %s "$VALUE" | envmux vault set NAME',
    });
  }
  return value;
}
