// A stand-in for AWS Secrets Manager on 127.0.0.1, so this example needs no AWS account: it speaks
// the JSON protocol the real AWS SDK sends (GetSecretValue, BatchGetSecretValue) for secrets held in
// memory. Signatures are not checked. In real use, delete this file and point at AWS itself.

import { createServer } from 'node:http';

/** Start the stand-in with `secrets` (name → string); returns its URL and a close function. */
export async function startAwsStandin(secrets) {
  const entry = (name) => ({
    ARN: `arn:aws:secretsmanager:us-east-1:000000000000:secret:${name}`,
    Name: name,
    SecretString: secrets[name],
    VersionId: 'v1',
    VersionStages: ['AWSCURRENT'],
    CreatedDate: 0,
  });
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      const op = String(req.headers['x-amz-target'] ?? '').split('.')[1];
      const input = body ? JSON.parse(body) : {};
      const send = (status, answer) => {
        res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1' });
        res.end(JSON.stringify(answer));
      };
      const notFound = (id) => ({
        __type: 'ResourceNotFoundException',
        message: `Secrets Manager can't find the specified secret: ${id}`,
      });
      if (op === 'GetSecretValue') {
        if (!(input.SecretId in secrets)) return send(400, notFound(input.SecretId));
        return send(200, entry(input.SecretId));
      }
      if (op === 'BatchGetSecretValue') {
        const ids = input.SecretIdList ?? [];
        return send(200, {
          SecretValues: ids.filter((id) => id in secrets).map(entry),
          Errors: ids
            .filter((id) => !(id in secrets))
            .map((id) => ({
              SecretId: id,
              ErrorCode: 'ResourceNotFoundException',
              Message: 'not found',
            })),
        });
      }
      send(400, { __type: 'InvalidRequestException', message: `not in this stand-in: ${op}` });
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}
