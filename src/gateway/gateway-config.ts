import { createHash } from 'node:crypto';

/** Roles, weakest first: each role may do what the ones before it may. */
export const ROLES = ['viewer', 'operator', 'admin'] as const;
export type Role = (typeof ROLES)[number];

/** One API key as the config holds it: its SHA-256, never the key itself. */
export interface ApiKeyEntry {
  /** Who the key belongs to (names metrics and logs; never the key). */
  name: string;
  role: Role;
  /** Lowercase hex SHA-256 of the key's UTF-8 bytes (`orion key` prints it). */
  sha256: string;
}

/** Config slice of the searcher gateway (`config.gateway`). */
export interface GatewayConfig {
  /** Serve the gateway (websocket stream, /health, /metrics, status page). `orion demo` and `orion run` turn it on. */
  enabled: boolean;
  /** Interface to bind. 127.0.0.1 by default: put a TLS proxy in front to expose it. */
  host: string;
  /** TCP port; 0 takes a free one (printed at start). */
  port: number;
  /**
   * Keys and roles. Keys are secrets, so a file holds only their SHA-256; the keys themselves come
   * from `ORION_API_KEYS` (`name:role:key,…`), hashed when the config loads.
   */
  apiKeys: ApiKeyEntry[];
  /** Largest client frame handled; a larger one gets a `frame-too-large` error frame. */
  maxFrameBytes: number;
  /** Bytes a socket may have queued; past it the client is cut (`closeOnBackpressureLimit`) and its drops counted. */
  maxBackpressureBytes: number;
  /** Client ops per second per API key (token bucket, shared by the key's sockets)… */
  opsPerSecond: number;
  /** …with bursts up to this many. */
  opsBurst: number;
  /** A socket that draws this many error frames within `errorWindowMs` is closed with a reason. */
  maxErrors: number;
  errorWindowMs: number;
  /** A socket silent this long is closed (uWS sends pings to keep live ones open). */
  idleTimeoutSec: number;
  /** Period of `stats` frames. */
  statsIntervalMs: number;
  /** Opportunities the status page and `/v1/status` keep. */
  recentOpportunities: number;
  /** On shutdown, how long clients get to take what is queued for them before their sockets close. */
  shutdownGraceMs: number;
}

/** Defaults of {@link GatewayConfig}. */
export const DEFAULT_GATEWAY_CONFIG: GatewayConfig = {
  enabled: false,
  host: '127.0.0.1',
  port: 0,
  apiKeys: [],
  maxFrameBytes: 16 * 1024,
  maxBackpressureBytes: 1 << 20,
  opsPerSecond: 20,
  opsBurst: 40,
  maxErrors: 5,
  errorWindowMs: 10_000,
  idleTimeoutSec: 120,
  statsIntervalMs: 1000,
  recentOpportunities: 20,
  shutdownGraceMs: 2000,
};

/** Lowercase hex SHA-256 of an API key, as {@link ApiKeyEntry.sha256} holds it. */
export function hashApiKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

/**
 * Parses `ORION_API_KEYS`: comma-separated `name:role:key` (or `role:key`, named after the role).
 * @throws TypeError naming the entry (never echoing the key) when one is malformed.
 */
export function apiKeysFromEnv(value: string): ApiKeyEntry[] {
  return value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0)
    .map((entry, i) => {
      const parts = entry.split(':');
      const [name, role, key] = parts.length === 2 ? [parts[0]!, parts[0]!, parts[1]!] : parts.length === 3 ? [parts[0]!, parts[1]!, parts[2]!] : [null, null, null];
      if (name === null || role === null || key === null) throw new TypeError(`ORION_API_KEYS entry ${i + 1} must be name:role:key or role:key`);
      if (!(ROLES as readonly string[]).includes(role)) throw new TypeError(`ORION_API_KEYS entry ${i + 1} has role ${JSON.stringify(role)}; roles: ${ROLES.join(', ')}`);
      if (key.length < 16) throw new TypeError(`ORION_API_KEYS entry ${i + 1}: a key must have at least 16 characters`);
      return { name, role: role as Role, sha256: hashApiKey(key) };
    });
}
