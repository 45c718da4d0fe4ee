import type { Sendable } from '../types.js';

/** Option and argument checks the routes share; each throws a TypeError or RangeError naming the field. */

/** Validates a URL option (throws a TypeError naming `field`) and returns its host. */
export function endpointUrl(url: unknown, field: string): string {
  if (typeof url !== 'string') throw new TypeError(`${field} must be an http(s) URL`);
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new TypeError(`${field} must be an http(s) URL`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new TypeError(`${field} must be an http(s) URL`);
  return u.host;
}

/** Validates a per-request timeout option. */
export function checkTimeout(ms: unknown, field: string): void {
  if (typeof ms !== 'number' || !Number.isSafeInteger(ms) || ms < 1) throw new RangeError(`${field} must be a positive integer of milliseconds, got ${String(ms)}`);
}

/**
 * Checks what the submitter hands a route; a malformed {@link Sendable} is a programming error,
 * so it throws (a RangeError or TypeError naming the field) instead of being reported as refused.
 */
export function checkSendable(s: Sendable): void {
  if (!Array.isArray(s.rawTxs) || s.rawTxs.length === 0) throw new RangeError('sendable.rawTxs must hold at least one transaction');
  if (!Number.isSafeInteger(s.targetBlock) || s.targetBlock < 0) throw new RangeError(`sendable.targetBlock must be a block number, got ${s.targetBlock}`);
  if (!Number.isSafeInteger(s.blocks) || s.blocks < 1) throw new RangeError(`sendable.blocks must be >= 1, got ${s.blocks}`);
  if (typeof s.replacementUuid !== 'string') throw new TypeError('sendable.replacementUuid must be a string');
  if (!Array.isArray(s.ours) || s.ours.length === 0) throw new RangeError('sendable.ours must name at least one transaction');
  for (const i of s.ours) if (!Number.isSafeInteger(i) || i < 0 || i >= s.rawTxs.length) throw new RangeError(`sendable.ours holds ${i}, not an index of rawTxs`);
}
