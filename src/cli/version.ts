// The package version, read from package.json at run time (one source of truth).

import { readFileSync } from 'node:fs';
import { join } from 'node:path';

function readVersion(): string {
  // dist/cli.cjs and src/cli/version.ts both sit one or two levels below the package root.
  for (const up of ['..', '../..']) {
    try {
      const pkg = JSON.parse(readFileSync(join(__dirname, up, 'package.json'), 'utf8'));
      if (pkg.name === 'envmux') return pkg.version;
    } catch {}
  }
  return '0.0.0';
}

export const version = readVersion();
