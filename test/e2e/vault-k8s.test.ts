// The `vault` and `k8s` providers from the packed package, as users start them: `node -r
// envmux/register` with HashiCorp Vault configured by its conventional env vars (node-vault
// installed beside envmux), and Kubernetes Secrets through a config file using the `k8s` factory
// from envmux/providers (a pod's token, CA and namespace files), both against loopback servers that
// speak the documented APIs (test/providers/vault/wire-server.ts, test/providers/k8s/wire-server.ts).

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { K8sWire } from '../providers/k8s/wire-server.js';
import { VaultWire } from '../providers/vault/wire-server.js';
import { makeLoopbackCertificate } from '../servers/certificate.js';
import { installProject, runNodeAsync, writeCase } from './consumer.js';

let vaultWire: VaultWire;
let k8sWire: K8sWire | undefined;
let project: string;
const cert = makeLoopbackCertificate();
if ('missing' in cert && process.env.ENVMUX_REQUIRE_SERVERS === '1') throw new Error(cert.missing);

const caseDir = (name: string, files: Record<string, string>) => writeCase(project, name, files);

beforeAll(async () => {
  vaultWire = await VaultWire.start();
  vaultWire.mount('kv', 2);
  vaultWire.put('kv/app/db', { user: 'app', password: 'vault-e2e-pw' });
  vaultWire.put('kv/app/token', { token: 'vault-e2e-token' });
  if (!('missing' in cert)) {
    k8sWire = await K8sWire.start(cert);
    k8sWire.put('team', 'db', { password: 'k8s-e2e-pw', user: 'k8s-app' });
  }
  project = installProject('vault-k8s-consumer', ['node-vault']);
}, 300_000);

afterAll(async () => {
  await vaultWire?.close();
  await k8sWire?.close();
});

const app =
  'console.log(JSON.stringify({ PW: process.env.PW, USER: process.env.USER_NAME, TOKEN: process.env.TOKEN }));\n';

describe('vault provider from the installed package', () => {
  it('node -r envmux/register resolves $<vault:app/db#password> from VAULT_ADDR / VAULT_TOKEN / VAULT_PATH', async () => {
    const dir = caseDir('vault', {
      '.env':
        'PW=$<vault:app/db#password>\nUSER_NAME=$<secret:app/db#user>\nTOKEN=$<vault:app/token>\n',
      'app.cjs': app,
    });
    const r = await runNodeAsync(['-r', 'envmux/register', 'app.cjs'], dir, {
      VAULT_ADDR: vaultWire.url,
      VAULT_TOKEN: vaultWire.rootToken,
      VAULT_PATH: 'kv',
    });
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout)).toEqual({
      PW: 'vault-e2e-pw',
      USER: 'app',
      TOKEN: 'vault-e2e-token',
    });
  });

  it('a wrong token fails closed naming the reference, never a value', async () => {
    const dir = caseDir('vault-denied', {
      '.env': 'PW=$<vault:app/db#password>\n',
      'app.cjs': app,
    });
    const r = await runNodeAsync(['-r', 'envmux/register', 'app.cjs'], dir, {
      VAULT_ADDR: vaultWire.url,
      VAULT_TOKEN: 'hvs.not-a-token',
      VAULT_PATH: 'kv',
    });
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/\.env:1 PW \$<vault:app\/db#password>: (AUTH_FAILED|ACCESS_DENIED)/);
    expect(r.stderr).not.toContain('vault-e2e-pw');
  });
});

describe.skipIf('missing' in cert)('k8s provider from the installed package', () => {
  it('a config file with k8s() from envmux/providers resolves $<k8s:team/db#password> in the preload', async () => {
    const dir = caseDir('k8s', {
      token: `${k8sWire!.token}\n`,
      'ca.crt': (cert as { cert: string }).cert,
      namespace: 'team',
      'envmux.config.mjs': `import { k8s } from 'envmux/providers';
const here = new URL('.', import.meta.url).pathname;
export default {
  providers: [k8s({ tokenFile: here + 'token', caFile: here + 'ca.crt', namespaceFile: here + 'namespace',
    env: { KUBERNETES_SERVICE_HOST: '127.0.0.1', KUBERNETES_SERVICE_PORT: '${k8sWire!.port}' } })],
};
`,
      '.env': 'PW=$<k8s:team/db#password>\nUSER_NAME=$<secret:team/db#user>\n',
      'app.cjs': app,
    });
    const r = await runNodeAsync(['-r', 'envmux/register', 'app.cjs'], dir);
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout)).toEqual({ PW: 'k8s-e2e-pw', USER: 'k8s-app' });
  });
});
