// The primary store as an envmux provider: a few lines with defineProvider. A refused connection
// (the service is down) is mapped by envmux to UNAVAILABLE, which fails over to the next store.

import { defineProvider } from 'envmux';

/** A provider reading `GET {url}/secrets/NAME`. */
export function httpStore({ id, url }) {
  return defineProvider({
    id,
    async get(name, { signal }) {
      const res = await fetch(`${url}/secrets/${encodeURIComponent(name)}`, { signal });
      if (res.status === 404) return undefined; // "not here": the chain moves on
      if (!res.ok) throw Object.assign(new Error('store error'), { status: res.status });
      return res.text();
    },
  });
}
