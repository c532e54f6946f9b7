// Started as `node -r envmux/register app.cjs` (the image's CMD): process.env is complete before
// this line runs. Secrets are shown by length and a hash prefix only.
const { createHash } = require('node:crypto');
const mask = (v) =>
  v
    ? `*** (${v.length} chars, sha256 ${createHash('sha256').update(v).digest('hex').slice(0, 8)})`
    : v;
console.log('PORT        ', process.env.PORT);
console.log('DB_USER     ', process.env.DB_USER);
console.log('DB_PASSWORD ', mask(process.env.DB_PASSWORD));
console.log('DATABASE_URL', process.env.DATABASE_URL.replace(process.env.DB_PASSWORD, '***'));
console.log('STRIPE_KEY  ', mask(process.env.STRIPE_KEY));
console.log('LOG_LEVEL   ', process.env.LOG_LEVEL);
