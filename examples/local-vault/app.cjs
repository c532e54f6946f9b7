// Started as `node -r envmux/register app.cjs`: process.env is complete before this line runs.
const mask = (v) => (v ? `${v.slice(0, 2)}…(${v.length} chars)` : v);
console.log('PORT        ', process.env.PORT);
console.log('DB_PASSWORD ', mask(process.env.DB_PASSWORD));
console.log('DATABASE_URL', process.env.DATABASE_URL.replace(process.env.DB_PASSWORD, '***'));
console.log('API_TOKEN   ', mask(process.env.API_TOKEN));
console.log('LOG_LEVEL   ', process.env.LOG_LEVEL);
