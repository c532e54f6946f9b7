// `envmux check`: for CI — every reference resolvable (or, with --no-resolve, well-formed and served
// by an available provider, fetching nothing) and the configured schema satisfied. Never prints a value.

import type { Command } from 'commander';
import { describeProblems, EnvmuxAggregateError, EnvmuxError } from '../errors.js';
import type { Provider } from '../providers/provider.js';
import { buildProvider, isProviderType } from '../providers/registry.js';
import { buildChain } from '../resolver/chain.js';
import { findConfigFile, readConfigFile } from '../resolver/config-file.js';
import { displayPath, envFilesFor, readEnvFiles } from '../resolver/files.js';
import type { EnvEntry } from '../resolver/parse.js';
import { Evaluation } from '../resolver/resolve.js';
import { type Reference, ScanError, scan, type Template } from '../resolver/scan.js';
import { validate } from '../resolver/validate.js';
import {
  addEnvOptions,
  asProblem,
  type ChainLink,
  type CommandLoadOptions,
  chainOf,
  commandLoadOptions,
  debugEnabled,
  debugLoadLines,
  type EnvFlags,
  exitWhenFlushed,
  hasReference,
  loadForCommand,
  MessageScrubber,
  schemeTest,
} from './command-env.js';
import { lintConfigKeys, lintEnvFiles } from './lint.js';

interface CheckFlags extends EnvFlags {
  resolve: boolean;
  json?: boolean;
  strict?: boolean;
}

/** Exit codes of `envmux check`. */
export const CHECK_EXIT = {
  /** No errors (and, with --strict, no warnings). */
  ok: 0,
  /** Errors found (or warnings, with --strict). */
  problems: 1,
  /** The check could not run: a bad option, a config file that does not load, an unknown --provider. */
  unusable: 2,
} as const;

type ReportedProblem = CheckReport['problems'][number];

/** What `check` found; `--json` prints this. */
export interface CheckReport {
  ok: boolean;
  /** Env files read, as shown in messages. */
  files: string[];
  /** How many keys the files set. */
  keys: number;
  /** How many of them hold a reference. */
  references: number;
  /** Whether references were resolved (false with --no-resolve). */
  resolved: boolean;
  /** Whether a schema was validated. */
  validated: boolean;
  /** Whether warnings fail the check (--strict). */
  strict: boolean;
  /** The exit code: see {@link CHECK_EXIT}. */
  exitCode: number;
  /** Errors: what cannot be meant. */
  problems: Array<{
    code: string;
    key: string | null;
    file: string | null;
    line: number | null;
    reference: string | null;
    message: string;
    hint: string | null;
  }>;
  /** Warnings: what may be meant (failures with --strict). Same shape as problems. */
  warnings: ReportedProblem[];
  /** The chain references resolve through and why each store is in it (empty with --no-resolve). */
  chain: ChainLink[];
}

export function register(program: Command): void {
  const command = program
    .command('check')
    .description(
      'check that every reference resolves and the configured schema holds (for CI); never prints a value',
    )
    .option(
      '--no-resolve',
      'only parse: grammar, schemes and provider ids, fetching nothing (for builds without access to secrets)',
    )
    .option('--json', 'print the report as JSON on stdout')
    .option('--strict', 'fail on warnings too')
    .addHelpText(
      'after',
      `
Errors (what cannot be meant): an unresolvable or malformed reference, a malformed line (BAD LINE,
K EY=3, =novalue), a quote that never closes, no env file at all, a config key that is a typo of a
known one, a schema failure. Warnings (what may be meant): a key set twice in one file, a quoted
value running over lines that look like assignments, an unknown config key, a --provider chain no
reference uses. Values are never printed. With --no-resolve the schema is not validated.

Exit codes: 0 no errors (warnings are listed; with --strict, none either); 1 errors (or warnings
with --strict), every one listed (file:line, key, reference, code); 2 the check could not run (a
bad option, a config file that does not load, an unknown --provider).

Examples:
  envmux check
  envmux check -f .env.production --provider aws --json
  envmux check --no-resolve          # in a Docker build, without credentials`,
    );
  // A usage error (an option without its value, an unknown option) is exit code 2.
  command.exitOverride((error) => {
    if (error.exitCode === 0) process.exit(0);
    process.exit(CHECK_EXIT.unusable);
  });
  addEnvOptions(command).action(async (flags: CheckFlags) => {
    const report = await check(flags);
    if (flags.json) {
      process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    } else {
      printReport(report);
    }
    exitWhenFlushed(report.exitCode);
  });
}

/** A reported (already scrubbed) problem as an error again, to describe it. */
function asError(p: ReportedProblem): EnvmuxError {
  return new EnvmuxError(p.code as EnvmuxError['code'], p.message, {
    key: p.key ?? undefined,
    file: p.file ?? undefined,
    line: p.line ?? undefined,
    reference: p.reference ?? undefined,
    hint: p.hint ?? undefined,
  });
}

function describeReported(p: ReportedProblem): string {
  return asError(p).describe();
}

function printReport(report: CheckReport): void {
  const files = report.files.length ? report.files.join(', ') : 'no env files';
  const w = report.warnings.length;
  const warnings = w ? `, ${w} warning${w === 1 ? '' : 's'}` : '';
  const listWarnings = () => {
    for (const p of report.warnings) process.stderr.write(`  - warning: ${describeReported(p)}\n`);
  };
  if (report.ok) {
    const what = report.resolved
      ? `${report.references} reference${report.references === 1 ? '' : 's'} resolved`
      : `${report.references} reference${report.references === 1 ? '' : 's'} parsed, not resolved (--no-resolve)`;
    const schema = report.validated ? ', schema valid' : '';
    process.stderr.write(
      `envmux check: ok — ${report.keys} key${report.keys === 1 ? '' : 's'} from ${files}, ${what}${schema}${warnings}\n`,
    );
    listWarnings();
    return;
  }
  const n = report.problems.length;
  const strict = report.strict && w ? ' (--strict: warnings fail)' : '';
  process.stderr.write(
    `envmux check: ${n} problem${n === 1 ? '' : 's'}${warnings} (${files})${strict}\n`,
  );
  for (const line of describeProblems(report.problems.map(asError))) {
    process.stderr.write(`  - ${line}\n`);
  }
  listWarnings();
}

/** Run the check; never throws (a broken config file is a problem like any other). */
export async function check(flags: CheckFlags): Promise<CheckReport> {
  const report: CheckReport = {
    ok: false,
    files: [],
    keys: 0,
    references: 0,
    resolved: flags.resolve,
    validated: false,
    strict: !!flags.strict,
    exitCode: CHECK_EXIT.problems,
    problems: [],
    warnings: [],
    chain: [],
  };
  let secrets: Set<string> = new Set();
  const problems: EnvmuxError[] = [];
  const warnings: EnvmuxError[] = [];
  let unusable = false;
  try {
    let options: CommandLoadOptions;
    try {
      options = await commandLoadOptions(flags);
      const env = options.env ?? options.processEnv ?? process.env;
      const cwd = options.cwd ?? process.cwd();
      const found = findConfigFile(cwd, env);
      if (found) {
        const file = displayPath(found.path, cwd);
        for (const f of lintConfigKeys(await readConfigFile(found), file)) {
          (f.severity === 'error' ? problems : warnings).push(f.problem);
        }
      }
      const unknown = (options.providers ?? []).filter(
        (p): p is string => typeof p === 'string' && !isProviderType(p),
      );
      if (unknown.length) {
        throw new EnvmuxError(
          'CONFIG',
          `unknown provider${unknown.length === 1 ? '' : 's'} ${unknown.map((id) => `"${id}"`).join(', ')} in --provider`,
          {
            hint: 'use a provider type (local, env, file, aws, ...) or the id of a provider of the config file',
          },
        );
      }
    } catch (error) {
      unusable = true;
      throw error;
    }
    const env = options.env ?? options.processEnv ?? process.env;
    const cwd = options.cwd ?? process.cwd();
    const paths = envFilesFor(options, env);
    for (const f of lintEnvFiles(
      paths.map((p) => p.path),
      paths.map((p) => displayPath(p.path, cwd)),
    )) {
      (f.severity === 'error' ? problems : warnings).push(f.problem);
    }
    if (flags.resolve) {
      const load = await loadForCommand(options, { waitingLine: process.stderr });
      secrets = load.secrets;
      const { loaded } = load;
      report.chain = chainOf(options);
      if (debugEnabled(flags)) {
        for (const line of debugLoadLines(loaded, report.chain)) {
          process.stderr.write(`envmux: ${line}\n`);
        }
      }
      report.files = loaded.files;
      report.keys = loaded.entries.size;
      const isScheme = schemeTest(options);
      // Keys the environment already sets are not resolved (it wins unless --override).
      const kept = new Set(loaded.kept);
      report.references = [...loaded.entries.values()].filter(
        (e) => !kept.has(e.key) && hasReference(e, isScheme, options.expand),
      ).length;
      problems.push(...loaded.errors);
      if (options.schema) {
        const failed = new Set(loaded.errors.map((e) => e.key));
        const processEnv = options.processEnv ?? process.env;
        const fileValues: Record<string, string> = {};
        for (const key of loaded.entries.keys()) {
          const value = loaded.values.get(key) ?? processEnv[key];
          if (value !== undefined) fileValues[key] = value;
        }
        try {
          await validate(options.schema, { ...processEnv, ...fileValues }, loaded.entries, [
            ...secrets,
            ...loaded.values.values(),
          ]);
        } catch (error) {
          const errors = error instanceof EnvmuxAggregateError ? error.errors : [asProblem(error)];
          // A key that failed to resolve is reported once, for its reference.
          problems.push(...errors.filter((e) => !e.key || !failed.has(e.key)));
        }
        report.validated = true;
      }
    } else {
      const found = await staticCheck(options);
      report.files = found.files;
      report.keys = found.keys;
      report.references = found.references;
      problems.push(...found.problems);
    }
    if (!report.files.length && !problems.some((p) => p.file)) {
      problems.push(
        new EnvmuxError('CONFIG', 'no env file found: there is nothing to check', {
          hint: `looked for ${paths.map((p) => displayPath(p.path, cwd)).join(', ')}; pass -f FILE or set ENVMUX_FILES`,
        }),
      );
    }
    if (flags.provider?.length && !usesProviders(report.keys ? options : undefined, cwd, env)) {
      warnings.push(
        new EnvmuxError('CONFIG', '--provider was given, but no reference reads a provider', {
          hint: 'drop --provider, or check that the env files are the ones you meant',
        }),
      );
    }
  } catch (error) {
    problems.push(asProblem(error));
  }
  // One scrubber for every message (built on the first), not one per problem.
  const scrubber = new MessageScrubber(secrets);
  const reported = (e: EnvmuxError): ReportedProblem => ({
    code: e.code,
    key: e.key ?? null,
    file: e.file ?? null,
    line: e.line ?? null,
    reference: e.reference ?? null,
    message: scrubber.scrub(e.message),
    hint: e.hint ? scrubber.scrub(e.hint) : null,
  });
  report.problems = problems.map(reported);
  report.warnings = warnings.map(reported);
  report.ok = problems.length === 0 && !(flags.strict && warnings.length);
  report.exitCode = unusable
    ? CHECK_EXIT.unusable
    : report.ok
      ? CHECK_EXIT.ok
      : CHECK_EXIT.problems;
  return report;
}

/** Whether any active reference of the env files reads a provider (a scheme other than env:). */
function usesProviders(
  options: CommandLoadOptions | undefined,
  cwd: string,
  env: Record<string, string | undefined>,
): boolean {
  if (!options) return false;
  const { entries } = readEnvFiles(envFilesFor(options, env), cwd);
  const evaluation = new Evaluation(entries.values(), {
    processEnv: options.processEnv ?? process.env,
    override: options.override,
    expand: options.expand,
    isScheme: schemeTest(options),
  });
  return [...evaluation.schemes()].some((s) => s !== 'env');
}

/**
 * `--no-resolve`: read the files, scan every value, and check that each scheme names a provider
 * this configuration can build — building the chain but calling no provider. Also finds cycles
 * between keys, which need no values.
 */
async function staticCheck(options: CommandLoadOptions): Promise<{
  files: string[];
  keys: number;
  references: number;
  problems: EnvmuxError[];
}> {
  const processEnv = options.processEnv ?? process.env;
  const env = options.env ?? processEnv;
  const cwd = options.cwd ?? process.cwd();
  const { entries, errors, read } = readEnvFiles(envFilesFor(options, env), cwd);
  const problems: EnvmuxError[] = [...errors];
  const isScheme = schemeTest(options);
  const active = [...entries.values()].filter(
    (e) => options.override || processEnv[e.key] === undefined,
  );
  const activeKeys = new Map(active.map((e) => [e.key, e]));

  // Pass 1: scan every value holding a reference; note the schemes used.
  const templates = new Map<EnvEntry, Template>();
  const schemes = new Set<string>();
  let references = 0;
  for (const entry of active) {
    if (!hasReference(entry, isScheme, options.expand)) continue;
    references++;
    try {
      const template = scan(entry.value, { isScheme, expand: options.expand });
      templates.set(entry, template);
      visit(template, (ref) => schemes.add(ref.scheme));
    } catch (error) {
      if (!(error instanceof ScanError)) throw error;
      const hint = error.hint ? { hint: error.hint } : {};
      problems.push(located(new EnvmuxError('INVALID_REFERENCE', error.message, hint), entry));
    }
  }

  // Pass 2: build the chain and each pinned provider type (this loads code; it calls no store).
  const built: Provider[] = [];
  const unavailable = new Map<string, EnvmuxError>();
  try {
    let chain: Provider[] = [];
    if ([...schemes].some((s) => s !== 'env')) {
      try {
        chain = await buildChain(options.providers, env);
        built.push(...chain);
      } catch (error) {
        unavailable.set('secret', asProblem(error));
      }
    }
    for (const scheme of schemes) {
      if (scheme === 'secret' || scheme === 'env' || chain.some((p) => p.id === scheme)) continue;
      if (!isProviderType(scheme)) {
        unavailable.set(
          scheme,
          new EnvmuxError('INVALID_REFERENCE', `unknown provider "${scheme}"`, {
            hint: 'use secret:, env:, or the id of a configured provider',
          }),
        );
        continue;
      }
      try {
        built.push(await buildProvider(scheme, env));
      } catch (error) {
        unavailable.set(scheme, asProblem(error));
      }
    }
  } finally {
    await Promise.allSettled(built.map(async (p) => p.close?.()));
  }

  // Pass 3: report each reference to an unavailable provider, and collect key-to-key edges.
  const edges = new Map<string, string[]>();
  for (const [entry, template] of templates) {
    const deps: string[] = [];
    visit(template, (ref, inFallback) => {
      const problem = unavailable.get(ref.scheme);
      if (problem) problems.push(located(copy(problem, ref.raw), entry));
      if (ref.scheme !== 'env' || inFallback) return;
      const name = literal(ref.name);
      // `KEY=$<env:KEY>` reads the process environment, not itself.
      if (name !== undefined && name !== entry.key && activeKeys.has(name)) deps.push(name);
    });
    if (deps.length) edges.set(entry.key, deps);
  }
  problems.push(...cycles(edges, activeKeys));
  // In file order, line by line (a missing file first), as a full resolve lists them.
  const rank = (e: EnvmuxError) => (e.line ? read.indexOf(e.file ?? '') : -1);
  problems.sort((a, b) => rank(a) - rank(b) || (a.line ?? 0) - (b.line ?? 0));
  return { files: read, keys: entries.size, references, problems };
}

/** Walk every reference of a template, nested ones included; `inFallback` below a `:-` default. */
function visit(
  template: Template,
  fn: (ref: Reference, inFallback: boolean) => void,
  inFallback = false,
): void {
  for (const part of template) {
    if (typeof part === 'string') continue;
    fn(part, inFallback);
    for (const sub of [part.name, part.field, part.version]) if (sub) visit(sub, fn, inFallback);
    if (part.fallback) visit(part.fallback, fn, true);
  }
}

function literal(template: Template): string | undefined {
  return template.every((p) => typeof p === 'string') ? template.join('') : undefined;
}

function copy(error: EnvmuxError, reference: string): EnvmuxError {
  return new EnvmuxError(error.code, error.message, {
    reference,
    provider: error.provider,
    hint: error.hint,
  });
}

function located(error: EnvmuxError, entry: EnvEntry): EnvmuxError {
  error.key ??= entry.key;
  error.file ??= entry.file;
  error.line ??= entry.line || undefined;
  return error;
}

/** Keys that refer to each other in a loop, one CYCLE problem per loop (as a full resolve reports). */
function cycles(edges: Map<string, string[]>, entries: Map<string, EnvEntry>): EnvmuxError[] {
  const problems: EnvmuxError[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const path: string[] = [];
  const walk = (key: string) => {
    state.set(key, 'visiting');
    path.push(key);
    for (const next of edges.get(key) ?? []) {
      const s = state.get(next);
      if (s === 'visiting') {
        const loop = [...path.slice(path.indexOf(next)), next];
        const steps = loop.map((k) => {
          const e = entries.get(k)!;
          return `${k} (${e.file}:${e.line})`;
        });
        problems.push(
          located(
            new EnvmuxError('CYCLE', `keys refer to each other: ${steps.join(' → ')}`),
            entries.get(next)!,
          ),
        );
      } else if (!s) {
        walk(next);
      }
    }
    path.pop();
    state.set(key, 'done');
  };
  for (const key of edges.keys()) if (!state.has(key)) walk(key);
  return problems;
}
