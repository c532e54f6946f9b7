// Started as `node -r envmux/register app.cjs`; shows that every key arrived (length only).
const keys = ['PORT', 'LOG_LEVEL', 'DB_PASSWORD', 'STRIPE_SECRET_KEY', 'SESSION_SECRET'];
console.log(keys.map((k) => `${k}(${process.env[k]?.length ?? 'missing'})`).join(' '));
