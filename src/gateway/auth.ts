import { createHash, timingSafeEqual } from 'node:crypto';
import { type ApiKeyEntry, ROLES, type Role } from './gateway-config.js';

/** Who a request authenticated as. */
export interface Principal {
  name: string;
  role: Role;
}

/** True when `role` may do what `needed` may. */
export function roleAtLeast(role: Role, needed: Role): boolean {
  return ROLES.indexOf(role) >= ROLES.indexOf(needed);
}

/**
 * API keys held as SHA-256 digests. A presented key is hashed and compared with every stored
 * digest in constant time (`timingSafeEqual` on equal-length digests, no early exit), so neither
 * the comparison nor the number of keys tried leaks which bytes matched.
 */
export class KeyStore {
  private readonly keys: { principal: Principal; digest: Buffer }[];

  constructor(entries: readonly ApiKeyEntry[]) {
    this.keys = entries.map((e) => ({ principal: { name: e.name, role: e.role }, digest: Buffer.from(e.sha256, 'hex') }));
  }

  get size(): number {
    return this.keys.length;
  }

  /** The principal of `key`, or null when no stored key matches (or none was given). */
  verify(key: string | null): Principal | null {
    if (key === null || key.length === 0 || key.length > 512) return null;
    const digest = createHash('sha256').update(key, 'utf8').digest();
    let found: Principal | null = null;
    for (const k of this.keys) if (timingSafeEqual(k.digest, digest) && found === null) found = k.principal;
    return found;
  }
}

/**
 * The key a request carries: `Authorization: Bearer <key>`, else `?token=<key>` (browsers cannot
 * set headers on a websocket). Null when neither is present.
 */
export function presentedKey(authorization: string, query: string): string | null {
  const m = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
  if (m) return m[1]!;
  if (query.length === 0) return null;
  const token = new URLSearchParams(query).get('token');
  return token === null || token.length === 0 ? null : token;
}
