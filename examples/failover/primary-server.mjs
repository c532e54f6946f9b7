// The primary store for this example: a tiny HTTP secrets service on 127.0.0.1 (a stand-in for an
// internal secrets API). `GET /secrets/NAME` answers the value, 404 when missing. Prints its URL.

import { createServer } from 'node:http';

const secrets = JSON.parse(process.env.PRIMARY_SECRETS ?? '{}');
const server = createServer((req, res) => {
  const name = decodeURIComponent(req.url.replace(/^\/secrets\//, ''));
  if (!(name in secrets)) {
    res.writeHead(404).end();
    return;
  }
  res.writeHead(200, { 'content-type': 'text/plain' }).end(secrets[name]);
});
server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
  console.log(`http://127.0.0.1:${server.address().port}`);
});
