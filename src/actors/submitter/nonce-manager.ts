import type { Hex, RouteName } from './types.js';

/**
 * Nonces per sending account. The manager hands out nonces, tracks which are live on which route,
 * and follows the chain; it is the one place that enforces "no two live transactions share a nonce,
 * whatever their routes".
 *
 * Each held nonce is in one of two states:
 *
 * ```
 *   reserve ──► reserved ──bind──► live ──onBlock (mined)──► forgotten
 *                  ▲  │              │ ▲
 *                  │  └──release──►  │ └─ replace (same nonce, new hash), bind { rebroadcast }
 *                  └──── unbind ─────┘     (last route refused definitively)
 * ```
 *
 * - `reserve(account, n)` gives the lowest n consecutive nonces at or above the floor (the chain's
 *   nonce as last seen) that nobody holds: released and unbound nonces are therefore reused first,
 *   lowest first, and the nonces held stay gap-free when every reservation is bound or released.
 * - A nonce is live from `bind` (call it before the send, so a refusal stops the send) until the
 *   chain mines it (`onBlock`) or its routes all refuse definitively (`unbind`). While live, binding
 *   another transaction hash throws {@link NonceConflictError}; binding the same hash on a second
 *   route needs `{ rebroadcast: true }`, the caller's statement that sending that exact transaction
 *   there too is intended (a bundle fanned out to several relays). A send whose outcome is unknown
 *   (timeout, dropped connection) must leave the nonce bound: it may still land.
 * - A reserved nonce the chain has passed is dropped: its holder's `bind` then throws, so a stale
 *   nonce is never sent.
 *
 * Only the chain reads are asynchronous; every change of state is synchronous, so callers that
 * resume in the same turn cannot interleave inside one. Reservations wait behind an account's
 * pending chain read (the first one, or a resync's) in call order.
 */

/** Reads an account's transaction count; `latest`: mined, `pending`: including the node's mempool. */
export interface NonceChainReader {
  nonceAt(account: string, tag: 'latest' | 'pending'): Promise<bigint>;
}

/** What the chain said about a nonce we sent. */
export type NonceErrorKind = 'nonce-too-low' | 'nonce-too-high';

/** A live nonce, as {@link NonceManager.live} lists it. */
export interface LiveNonce {
  nonce: bigint;
  /** The transaction now live with this nonce. */
  txHash: Hex;
  /** Routes it was sent to and that have not refused it. */
  routes: RouteName[];
  /** Hashes it replaced, oldest first; any of them may still be the one that is mined. */
  replaced: Hex[];
}

/** What {@link NonceManager.onBlock} forgot. */
export interface MinedNonces {
  /** Live nonces below the chain's nonce: one of their transactions (or someone else's) was mined. */
  mined: LiveNonce[];
  /** Reserved, unbound nonces below the chain's nonce: their holders' `bind` will throw. */
  stale: bigint[];
}

/** An account's state, for logs, `/health` and tests. */
export interface NonceSnapshot {
  /** Floor of new reservations: the chain's nonce as last seen, or null before the first read. */
  floor: bigint | null;
  /** The nonce a `reserve(account, 1)` would get now, or null before the first read. */
  next: bigint | null;
  reserved: bigint[];
  live: LiveNonce[];
}

/** Why a nonce operation was refused. */
export type NonceErrorCode = 'ORION_ERR_NONCE_CONFLICT' | 'ORION_ERR_NONCE_STALE' | 'ORION_ERR_NONCE_STATE';

/**
 * A refused nonce operation; not fatal. `ORION_ERR_NONCE_CONFLICT`: another transaction is live
 * with the nonce (or the same one, on another route, without `rebroadcast`). `ORION_ERR_NONCE_STALE`:
 * the nonce is not held (the chain has passed it, or it was never reserved). `ORION_ERR_NONCE_STATE`:
 * the operation does not fit the nonce's state (release of a live nonce, replace of a reserved one).
 */
export class NonceError extends Error {
  override name = 'NonceError';
  readonly code: NonceErrorCode;
  readonly shortMessage: string;
  readonly fatal = false;

  constructor(code: NonceErrorCode, shortMessage: string) {
    super(shortMessage);
    this.code = code;
    this.shortMessage = shortMessage;
  }
}

/** Options of {@link NonceManager.bind}. */
export interface BindOptions {
  txHash: Hex;
  route: RouteName;
  /** Allows the same `txHash`, already live on another route, on `route` too. */
  rebroadcast?: boolean;
}

interface Held {
  /** Null while reserved; the live transaction's hash once bound. */
  txHash: Hex | null;
  routes: Set<RouteName>;
  replaced: Hex[];
}

interface AccountState {
  /** Null until the first chain read or block. */
  floor: bigint | null;
  held: Map<bigint, Held>;
  /** Settles (never rejects) when the account's latest chain read (first use or resync) has been applied. */
  ready: Promise<void>;
  /** The first read while it is in flight; rejects when it fails. */
  init: Promise<void> | null;
  /** Bumped by every onBlock, so a chain read that raced a block can tell. */
  blocks: number;
  /** Chain nonce of the latest onBlock. */
  lastBlockNonce: bigint;
}

/** Nonces for any number of accounts (keys are lowercased), read from one chain. */
export class NonceManager {
  readonly #reader: NonceChainReader;
  readonly #accounts = new Map<string, AccountState>();

  constructor(reader: NonceChainReader) {
    if (reader === null || typeof reader !== 'object' || typeof reader.nonceAt !== 'function') throw new TypeError('NonceManager: reader must have nonceAt(account, tag)');
    this.#reader = reader;
  }

  /**
   * Reserves `count` consecutive nonces (the lowest free run at or above the chain's nonce). The
   * account's first use reads the chain's `latest` nonce; concurrent first calls share that read.
   * Rejects with the reader's error when the read fails; the next call reads again.
   */
  async reserve(account: string, count = 1): Promise<bigint[]> {
    if (!Number.isSafeInteger(count) || count < 1) throw new RangeError(`NonceManager.reserve: count must be a positive integer, got ${count}`);
    const st = this.#state(account);
    if (st.floor === null) {
      // Concurrent first calls share one read, and all of them reject when it fails.
      st.init ??= this.#read(account, st, 'init').finally(() => {
        st.init = null;
      });
      await st.init;
    }
    // Wait until no read is pending; a resync may start while we wait, so wait for the newest.
    for (;;) {
      const ready = st.ready;
      await ready;
      if (st.ready === ready) break;
    }
    if (st.floor === null) throw new Error('unreachable: a successful nonce read left no floor');
    const first = this.#lowestFree(st, count);
    const out: bigint[] = [];
    for (let i = 0n; i < BigInt(count); i++) {
      st.held.set(first + i, { txHash: null, routes: new Set(), replaced: [] });
      out.push(first + i);
    }
    return out;
  }

  /**
   * Marks a reserved nonce live with `txHash` on `route` (call before sending). Idempotent for the
   * same hash and route. Throws {@link NonceError}: `CONFLICT` when another hash is live with the
   * nonce, or this one on another route without `rebroadcast`; `STALE` when the nonce is not held.
   */
  bind(account: string, nonce: bigint, options: BindOptions): void {
    const h = this.#held(account, nonce, 'bind');
    const { txHash, route } = options;
    if (h.txHash === null) {
      h.txHash = txHash;
      h.routes.add(route);
      return;
    }
    if (h.txHash !== txHash) throw new NonceError('ORION_ERR_NONCE_CONFLICT', `nonce ${nonce} of ${account.toLowerCase()} is live with ${h.txHash} on ${[...h.routes].join(', ')}; refusing ${txHash} on ${route}`);
    if (h.routes.has(route)) return;
    if (options.rebroadcast !== true) throw new NonceError('ORION_ERR_NONCE_CONFLICT', `${txHash} (nonce ${nonce}) is live on ${[...h.routes].join(', ')}; sending it on ${route} too needs rebroadcast`);
    h.routes.add(route);
  }

  /**
   * Marks `nonce` live with `txHash` on `route` without a reservation: a transaction sent before a
   * restart (recovered from the ledger) that may still land. Reservations skip it until a block
   * shows it mined or it is unbound. Idempotent for the same hash; throws `CONFLICT` when another
   * hash is live with the nonce.
   */
  adopt(account: string, nonce: bigint, options: Omit<BindOptions, 'rebroadcast'>): void {
    if (typeof nonce !== 'bigint' || nonce < 0n) throw new RangeError(`NonceManager.adopt: nonce must be a non-negative bigint, got ${String(nonce)}`);
    const st = this.#state(account);
    const h = st.held.get(nonce);
    if (h === undefined) {
      st.held.set(nonce, { txHash: options.txHash, routes: new Set([options.route]), replaced: [] });
      return;
    }
    if (h.txHash !== null && h.txHash !== options.txHash) throw new NonceError('ORION_ERR_NONCE_CONFLICT', `nonce ${nonce} of ${account.toLowerCase()} is live with ${h.txHash}; refusing to adopt ${options.txHash}`);
    h.txHash = options.txHash;
    h.routes.add(options.route);
  }

  /**
   * `route` refused the nonce's transaction definitively (nothing was accepted): it is no longer
   * live there. When no route is left the nonce is reserved again, for the caller to bind (a fallback
   * route, a re-signed transaction) or release. Returns whether the nonce is still live. Never call it
   * for a send whose outcome is unknown.
   */
  unbind(account: string, nonce: bigint, route: RouteName): boolean {
    const h = this.#held(account, nonce, 'unbind');
    h.routes.delete(route);
    if (h.routes.size > 0) return true;
    h.txHash = null;
    h.replaced.length = 0;
    return false;
  }

  /**
   * Gives back reserved nonces that were never sent; the next reservations reuse them, lowest first.
   * Nonces no longer held (mined, dropped by a resync) are skipped. Throws `STATE` for a live nonce:
   * {@link unbind} it first. Returns how many were released.
   */
  release(account: string, nonces: readonly bigint[]): number {
    const st = this.#accounts.get(account.toLowerCase());
    if (st === undefined) return 0;
    for (const n of nonces) {
      const h = st.held.get(n);
      if (h !== undefined && h.txHash !== null) throw new NonceError('ORION_ERR_NONCE_STATE', `nonce ${n} of ${account.toLowerCase()} is live with ${h.txHash}; unbind it before releasing`);
    }
    let released = 0;
    for (const n of nonces) if (st.held.delete(n)) released++;
    return released;
  }

  /**
   * The live transaction with `nonce` is replaced by `txHash` (same nonce, higher fee; a cancellation
   * is a replacement too): the old hash is no longer live. The new one is live on `route`, or on the
   * old routes when omitted. Returns the replaced hash. Throws `STALE` when the nonce is not held and
   * `STATE` when it is only reserved (bind it instead).
   */
  replace(account: string, nonce: bigint, txHash: Hex, route?: RouteName): Hex {
    const h = this.#held(account, nonce, 'replace');
    if (h.txHash === null) throw new NonceError('ORION_ERR_NONCE_STATE', `nonce ${nonce} of ${account.toLowerCase()} is reserved, not live; bind it instead of replacing`);
    const old = h.txHash;
    if (old === txHash) return old;
    h.replaced.push(old);
    h.txHash = txHash;
    if (route !== undefined) {
      h.routes.clear();
      h.routes.add(route);
    }
    return old;
  }

  /**
   * A block arrived and the account's `latest` nonce is now `chainNonce`: every nonce below it is
   * used, so it is forgotten, and reservations start at `chainNonce` or above (the floor never moves
   * down here: a lagging node's lower value only forgets what is below it). Also initializes an
   * account not read yet, without a chain read.
   */
  onBlock(account: string, chainNonce: bigint): MinedNonces {
    const st = this.#state(account);
    st.blocks++;
    st.lastBlockNonce = chainNonce;
    const out: MinedNonces = { mined: [], stale: [] };
    if (st.floor === null || chainNonce > st.floor) st.floor = chainNonce;
    for (const [n, h] of st.held) {
      if (n >= chainNonce) continue;
      st.held.delete(n);
      if (h.txHash === null) out.stale.push(n);
      else out.mined.push(live(n, h));
    }
    out.mined.sort(byNonce);
    out.stale.sort(cmp);
    return out;
  }

  /**
   * A route or node answered `nonce too low` or `nonce too high`: resyncs from the chain and returns
   * the nonce the next reservation gets.
   *
   * - too low: reads `pending` (mined plus the node's mempool); reserved nonces below it are dropped
   *   (their holders' `bind` throws), live ones stay until a block shows them mined, and the floor
   *   rises to it.
   * - too high: reads `latest`; the floor moves to it, down as well as up, so a nonce that was
   *   given out but never landed (a dropped transaction, an expired bundle that was unbound) is
   *   handed out again and the gap closes. Live nonces stay live: only `unbind` or a block ends them.
   */
  async onError(account: string, kind: NonceErrorKind): Promise<bigint> {
    if (kind !== 'nonce-too-low' && kind !== 'nonce-too-high') throw new TypeError(`NonceManager.onError: unknown kind ${String(kind)}`);
    const st = this.#state(account);
    await this.#read(account, st, kind);
    return this.#lowestFree(st, 1);
  }

  /** The account's live nonces, lowest first. @remarks Allocates; not for the hot path. */
  live(account: string): LiveNonce[] {
    const st = this.#accounts.get(account.toLowerCase());
    if (st === undefined) return [];
    const out: LiveNonce[] = [];
    for (const [n, h] of st.held) if (h.txHash !== null) out.push(live(n, h));
    return out.sort(byNonce);
  }

  /** The account's state. @remarks Allocates; not for the hot path. */
  snapshot(account: string): NonceSnapshot {
    const st = this.#accounts.get(account.toLowerCase());
    if (st === undefined || st.floor === null) return { floor: null, next: null, reserved: [], live: this.live(account) };
    const reserved: bigint[] = [];
    for (const [n, h] of st.held) if (h.txHash === null) reserved.push(n);
    return { floor: st.floor, next: this.#lowestFree(st, 1), reserved: reserved.sort(cmp), live: this.live(account) };
  }

  /**
   * Chains a chain read behind the account's pending one and applies it; `st.ready` settles (never
   * rejects) when it has. The returned promise rejects with the reader's error.
   */
  #read(account: string, st: AccountState, why: 'init' | NonceErrorKind): Promise<void> {
    const key = account.toLowerCase();
    const tag = why === 'nonce-too-low' ? 'pending' : 'latest';
    const run = st.ready.then(async () => {
      const blocks = st.blocks;
      const nonce = await this.#reader.nonceAt(key, tag);
      if (typeof nonce !== 'bigint' || nonce < 0n) throw new TypeError(`NonceManager: reader returned ${String(nonce)} for ${key} (${tag}); expected a non-negative bigint`);
      // A block applied while the read was in flight may know better than the read: keep the higher.
      const seen = st.blocks !== blocks ? st.lastBlockNonce : -1n;
      if (why === 'nonce-too-high') st.floor = nonce > seen ? nonce : seen;
      else {
        const floor = st.floor === null || nonce > st.floor ? nonce : st.floor;
        st.floor = floor > seen ? floor : seen;
        if (why === 'nonce-too-low') {
          for (const [n, h] of st.held) if (n < nonce && h.txHash === null) st.held.delete(n);
        }
      }
    });
    st.ready = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  #state(account: string): AccountState {
    const key = account.toLowerCase();
    let st = this.#accounts.get(key);
    if (st === undefined) {
      st = { floor: null, held: new Map(), ready: Promise.resolve(), init: null, blocks: 0, lastBlockNonce: -1n };
      this.#accounts.set(key, st);
    }
    return st;
  }

  #held(account: string, nonce: bigint, op: string): Held {
    const h = this.#accounts.get(account.toLowerCase())?.held.get(nonce);
    if (h === undefined) throw new NonceError('ORION_ERR_NONCE_STALE', `${op}: nonce ${nonce} of ${account.toLowerCase()} is not held (never reserved, released, or passed by the chain)`);
    return h;
  }

  /** Lowest n ≥ floor with n … n + count − 1 all unheld. */
  #lowestFree(st: AccountState, count: number): bigint {
    let n = st.floor!;
    for (;;) {
      let clear = true;
      for (let i = 0; i < count; i++) {
        if (st.held.has(n + BigInt(i))) {
          n += BigInt(i) + 1n;
          clear = false;
          break;
        }
      }
      if (clear) return n;
    }
  }
}

function live(nonce: bigint, h: Held): LiveNonce {
  return { nonce, txHash: h.txHash!, routes: [...h.routes], replaced: [...h.replaced] };
}

function cmp(a: bigint, b: bigint): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function byNonce(a: LiveNonce, b: LiveNonce): number {
  return cmp(a.nonce, b.nonce);
}
