// Stand-ins for three cloud stores on 127.0.0.1, so this example needs no account: each speaks the
// wire protocol the real client library sends, for the one read this example makes — AWS Secrets
// Manager (JSON over HTTP: GetSecretValue, BatchGetSecretValue), GCP Secret Manager (REST, the
// client's `fallback` mode: versions/*:access) and HashiCorp Vault (KV v2: GET {mount}/data/{path},
// and auth/token/lookup-self; X-Vault-Token checked). Secrets are held in memory. In real use, delete this file.

import { createServer } from 'node:http';

/** Serve `handler(req, body)` → `[status, json]` on a free loopback port. */
async function serve(handler) {
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      const [status, json, type = 'application/json'] = handler(req, body);
      res.writeHead(status, { 'content-type': type }).end(JSON.stringify(json));
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    port: server.address().port,
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}

/** AWS Secrets Manager: `secrets` is name → string. */
export function awsStandin(secrets) {
  const type = 'application/x-amz-json-1.1';
  const entry = (name) => ({
    ARN: `arn:aws:secretsmanager:us-east-1:000000000000:secret:${name}`,
    Name: name,
    SecretString: secrets[name],
    VersionId: 'v1',
    VersionStages: ['AWSCURRENT'],
  });
  return serve((req, body) => {
    const op = String(req.headers['x-amz-target'] ?? '').split('.')[1];
    const input = body ? JSON.parse(body) : {};
    if (op === 'GetSecretValue') {
      return input.SecretId in secrets
        ? [200, entry(input.SecretId), type]
        : [400, { __type: 'ResourceNotFoundException', message: 'secret not found' }, type];
    }
    if (op === 'BatchGetSecretValue') {
      const ids = input.SecretIdList ?? [];
      const missing = ids.filter((id) => !(id in secrets));
      return [
        200,
        {
          SecretValues: ids.filter((id) => id in secrets).map(entry),
          Errors: missing.map((id) => ({
            SecretId: id,
            ErrorCode: 'ResourceNotFoundException',
            Message: 'not found',
          })),
        },
        type,
      ];
    }
    return [
      400,
      { __type: 'InvalidRequestException', message: `not in this stand-in: ${op}` },
      type,
    ];
  });
}

/** GCP Secret Manager (REST): `secrets` is `projects/P/secrets/S` → string. */
export function gcpStandin(secrets) {
  return serve((req) => {
    const path = decodeURIComponent(new URL(req.url, 'http://x').pathname);
    const m = path.match(/^\/v1\/(projects\/[^/]+\/secrets\/[^/]+)\/versions\/([^/:]+):access$/);
    if (req.method === 'GET' && m && m[1] in secrets) {
      return [
        200,
        {
          name: `${m[1]}/versions/1`,
          payload: { data: Buffer.from(secrets[m[1]]).toString('base64') },
        },
      ];
    }
    return [404, { error: { code: 404, message: 'Secret not found', status: 'NOT_FOUND' } }];
  });
}

/** Vault KV v2 behind one token: `secrets` is `mount/path` → an object of fields. */
export function vaultStandin(secrets, token) {
  return serve((req) => {
    if (req.headers['x-vault-token'] !== token) return [403, { errors: ['permission denied'] }];
    const path = new URL(req.url, 'http://x').pathname;
    // envmux asks how long the token lives (0: no expiry) before it reads.
    if (path === '/v1/auth/token/lookup-self')
      return [200, { data: { ttl: 0, renewable: false, policies: ['default'] } }];
    const m = path.match(/^\/v1\/([^/]+)\/data\/(.+)$/);
    const key = m && `${m[1]}/${m[2]}`;
    if (req.method === 'GET' && key in secrets) {
      return [
        200,
        {
          data: {
            data: secrets[key],
            metadata: {
              version: 1,
              created_time: new Date(0).toISOString(),
              deletion_time: '',
              destroyed: false,
            },
          },
        },
      ];
    }
    return [404, { errors: [] }];
  });
}
