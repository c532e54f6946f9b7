// Dependency hygiene: the source, package.json and the published surface agree. Static imports are
// runtime dependencies (few, small); every SDK is an optional peer loaded with import() only.
// (`npm audit` needs the registry's advisory endpoint, which answers 405 on this network.)

import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '../..');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? sources(path) : path.endsWith('.ts') ? [path] : [];
  });
}

const packageOf = (specifier: string) =>
  specifier.startsWith('@') ? specifier.split('/').slice(0, 2).join('/') : specifier.split('/')[0]!;

const staticImports = new Set<string>();
const dynamicImports = new Set<string>();
for (const file of sources(join(root, 'src'))) {
  const text = readFileSync(file, 'utf8');
  for (const m of text.matchAll(/^import (?!type )[^;]*? from '([^.'][^']*)';/gm))
    staticImports.add(packageOf(m[1]!));
  for (const m of text.matchAll(/import\('([^.'][^']*)'\)/g)) dynamicImports.add(packageOf(m[1]!));
  for (const m of text.matchAll(/const \w+: string = '(@[^']+|[a-z][^']*)';/g))
    dynamicImports.add(packageOf(m[1]!));
}
const external = (names: Set<string>) => [...names].filter((n) => !n.startsWith('node:')).sort();

describe('dependency hygiene', () => {
  it('runtime dependencies are exactly what the source imports (hash-wasm on demand)', () => {
    for (const name of external(staticImports)) expect(pkg.dependencies[name], name).toBeDefined();
    const used = new Set([...staticImports, ...dynamicImports]);
    for (const name of Object.keys(pkg.dependencies)) expect(used.has(name), name).toBe(true);
  });

  it('the runtime dependency tree stays small', () => {
    // cli-progress: copy's progress bar, imported only on a terminal (never by a load).
    expect(Object.keys(pkg.dependencies).sort()).toEqual([
      'cli-progress',
      'commander',
      'dotenv',
      'hash-wasm',
      'lru-cache',
      'p-retry',
    ]);
  });

  it('every SDK is an optional peer (and a dev dependency for the tests), loaded by import() only', () => {
    const sdks = external(dynamicImports).filter((n) => !pkg.dependencies[n]);
    expect(sdks.length).toBeGreaterThan(5);
    for (const sdk of sdks) {
      expect(pkg.peerDependencies[sdk], `${sdk} peer`).toBeDefined();
      expect(pkg.peerDependenciesMeta[sdk]?.optional, `${sdk} optional`).toBe(true);
      expect(pkg.devDependencies[sdk], `${sdk} dev`).toBeDefined();
      expect(staticImports.has(sdk), `${sdk} imported statically`).toBe(false);
    }
  });
});
