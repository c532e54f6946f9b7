// The floor for bench/serve.bench.mjs: a bare node:http server that checks the same bearer token
// and answers every GET with a fixed JSON body of the same shape, no store, cache or audit. It takes
// (and ignores) `envmux serve`'s arguments and announces itself on stderr the same way, so the bench
// runs it through the same harness in the same run: what the machine and Node's HTTP stack cost.
const http = require('node:http');

const expected = `Bearer ${process.env.ENVMUX_SERVE_TOKEN}`;
const body = JSON.stringify({ name: 'db', value: 'bench-secret-value', version: '1' });
const server = http.createServer((req, res) => {
  if (req.headers.authorization !== expected) {
    res.statusCode = 401;
    res.end();
    return;
  }
  res.writeHead(200, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(body),
  });
  res.end(body);
});
server.listen(0, '127.0.0.1', () =>
  process.stderr.write(`listening on http://127.0.0.1:${server.address().port}\n`),
);
process.on('SIGTERM', () => server.close(() => process.exit(0)));
