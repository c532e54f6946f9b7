// Started as `node -r envmux/register app.cjs`: process.env is complete before this line runs.
// Secrets are shown by length and a hash prefix only: enough to see they arrived, never the value.
const { createHash } = require('node:crypto');
const mask = (v) =>
  v
    ? `*** (${v.length} chars, sha256 ${createHash('sha256').update(v).digest('hex').slice(0, 8)})`
    : v;
console.log('PORT        ', process.env.PORT);
console.log('DB_PASSWORD ', mask(process.env.DB_PASSWORD));
console.log('DATABASE_URL', process.env.DATABASE_URL.replace(process.env.DB_PASSWORD, '***'));
console.log('API_TOKEN   ', mask(process.env.API_TOKEN));
console.log('LOG_LEVEL   ', process.env.LOG_LEVEL);
