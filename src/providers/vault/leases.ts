// Vault dynamic database credentials (`database/creds/ROLE`): one read per lease, so a username and
// its password always come from the same lease; the lease renewed before it expires (PUT
// sys/leases/renew) in long-lived processes, and new credentials read before the old ones end when it
// cannot be renewed (max TTL reached, refused, revoked). See docs/architecture.md, "Provider chain".

/** One lease of credentials: the fields Vault answered, and when the lease ends. */
export interface CredentialLease {
  id: string;
  data: Record<string, unknown>;
  renewable: boolean;
  /** Lease duration Vault granted first, seconds (what each renewal asks for again). */
  duration: number;
  /** When the lease ends, ms since the epoch. */
  expiresAt: number;
}

type Send = (
  verb: 'GET' | 'PUT',
  path: string,
  context: { operation: string; capability: string; body?: unknown },
  signal?: AbortSignal,
) => Promise<any>;

/** Share of a lease's remaining life after which it is renewed (or replaced). */
const RENEW_AT = 2 / 3;

/** Credentials leased from Vault, renewed and replaced in the background (unref'd timers). */
export function credentialLeases(send: Send): {
  /** The current lease of `path`'s credentials, read now when there is none usable. */
  get(path: string, signal?: AbortSignal): Promise<CredentialLease>;
  /** Stop every renewal timer. */
  close(): void;
} {
  const state = new Map<
    string,
    { lease?: CredentialLease; reading?: Promise<CredentialLease>; timer?: NodeJS.Timeout }
  >();
  let closed = false;

  const slot = (path: string) => {
    let s = state.get(path);
    if (!s) {
      s = {};
      state.set(path, s);
    }
    return s;
  };

  const schedule = (path: string, lease: CredentialLease, step: () => void) => {
    const s = slot(path);
    clearTimeout(s.timer);
    if (closed) return;
    const wait = Math.max(0, (lease.expiresAt - Date.now()) * RENEW_AT);
    s.timer = setTimeout(step, wait);
    s.timer.unref();
  };

  /** Read new credentials (one lease); the renewal timer starts with it. */
  const read = (path: string, signal?: AbortSignal): Promise<CredentialLease> => {
    const s = slot(path);
    s.reading ??= (async () => {
      const out = await send(
        'GET',
        path,
        { operation: `read credentials "${path}"`, capability: 'read' },
        signal,
      );
      const duration = Number(out?.lease_duration ?? 0);
      const lease: CredentialLease = {
        id: String(out?.lease_id ?? ''),
        data: (out?.data ?? {}) as Record<string, unknown>,
        renewable: out?.renewable === true,
        duration,
        expiresAt: Date.now() + duration * 1000,
      };
      s.lease = lease;
      if (duration > 0) schedule(path, lease, () => void keepAlive(path, lease));
      return lease;
    })().finally(() => {
      s.reading = undefined;
    });
    return s.reading;
  };

  /** Renew the lease; when Vault will not extend it fully (or at all), read new credentials in time. */
  const keepAlive = async (path: string, lease: CredentialLease) => {
    if (closed || slot(path).lease !== lease) return;
    const replace = () =>
      read(path).catch(() => {
        // Vault unreachable: the next get() reads again (after this lease ends).
      });
    if (!lease.renewable || !lease.id) return void replace();
    try {
      const out = await send('PUT', 'sys/leases/renew', {
        operation: `renew the lease of "${path}"`,
        capability: 'update',
        body: { lease_id: lease.id, increment: lease.duration },
      });
      const granted = Number(out?.lease_duration ?? 0);
      lease.expiresAt = Date.now() + granted * 1000;
      // Capped by the max TTL: these credentials end soon, so the next step reads new ones.
      if (granted < lease.duration) schedule(path, lease, () => void replace());
      else schedule(path, lease, () => void keepAlive(path, lease));
    } catch {
      await replace(); // refused, revoked or expired: new credentials now
    }
  };

  return {
    async get(path, signal) {
      const s = slot(path);
      // A lease with under a second left is as good as gone: the app would get dead credentials.
      if (s.lease && s.lease.expiresAt - Date.now() > 1000) return s.lease;
      if (s.lease && s.lease.duration === 0) return s.lease; // no expiry
      return read(path, signal);
    },
    close() {
      closed = true;
      for (const s of state.values()) clearTimeout(s.timer);
    },
  };
}
