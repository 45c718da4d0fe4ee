import { keccak_256 } from '@noble/hashes/sha3';

/**
 * The node's state at one block, read lazily over JSON-RPC and cached until the next head.
 *
 * Every read goes through one queue that is flushed as a single JSON-RPC batch on the next
 * microtask, so the reads a simulation (or a prefetch, or several simulations in flight) needs at
 * the same moment cost one round trip. A read already in flight is shared, never sent twice.
 * Replies for a block that is no longer current are handed to their caller but not cached, so a
 * new head never sees state from the old one.
 */

/** Stable codes of {@link StateReadError}; metrics count `state.<code>`, so never rename one. */
export type StateReadErrorCode =
  /** The node answered the call with a JSON-RPC error (unknown block, pruned state, …). */
  | 'STATE_RPC_ERROR'
  /** The HTTP request failed or returned a non-2xx status. */
  | 'STATE_TRANSPORT'
  /** The reply was not JSON-RPC, lacked a call's id, or a result had the wrong shape. */
  | 'STATE_BAD_REPLY';

/** A state read the node could not answer; the caller counts `code` and skips the transaction. */
export class StateReadError extends Error {
  override name = 'StateReadError';
  readonly code: StateReadErrorCode;
  /** Never fatal: the next head or a retry may succeed. */
  readonly fatal = false;

  constructor(code: StateReadErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

/** An account as the node holds it at the cached block; `code` is kept next to it because a VM that asks for one nearly always asks for the other. */
export interface AccountState {
  nonce: bigint;
  balance: bigint;
  code: Uint8Array;
  /** keccak256 of `code`. */
  codeHash: Uint8Array;
}

/** Options of {@link RpcState}. */
export interface RpcStateOptions {
  /** HTTP JSON-RPC endpoint; fetch keeps the connection alive between batches. */
  url: string;
  /** Block whose state is read. */
  blockNumber: number;
  /** Largest number of calls in one batch request; default 256. */
  maxBatch?: number;
}

/** Counters of an {@link RpcState}, read by the simulator's metrics. */
export interface RpcStateStats {
  /** Reads answered from the cache (accounts and slots). */
  hits: number;
  /** Reads that needed the node. */
  misses: number;
  /** Batch requests sent. */
  batches: number;
  /** JSON-RPC calls sent. */
  calls: number;
  /** Failed calls, by code. */
  errors: Record<StateReadErrorCode, number>;
}

interface Pending {
  method: string;
  params: unknown[];
  resolve(result: unknown): void;
  reject(err: StateReadError): void;
}

const EMPTY = new Uint8Array(0);
/** Contracts whose code is kept across heads at most. */
const MAX_CODES = 10_000;

/**
 * Code that stays as it is in later blocks: a deployed contract's (after Cancun, SELFDESTRUCT only
 * clears code created in the same transaction). Not empty code (a CREATE may fill it) and not an
 * EIP-7702 delegation (`0xef0100…`, which its account can re-delegate).
 */
function immutableCode(code: Uint8Array): boolean {
  return code.length > 0 && !(code.length === 23 && code[0] === 0xef && code[1] === 0x01 && code[2] === 0x00);
}

/** keccak256 of empty code. */
export const KECCAK256_EMPTY: Uint8Array = keccak_256(EMPTY);

let nextId = 1;

/** Lazily read, per-block cached node state. @remarks Allocates per miss; a warm read allocates nothing. */
export class RpcState {
  private readonly url: string;
  private readonly maxBatch: number;
  private block: number;
  private tag: string;
  /** Bumped by {@link invalidate}; a reply tagged with an older generation is not cached. */
  private generation = 0;
  private accounts = new Map<string, AccountState>();
  /**
   * Contract code kept across heads ({@link immutableCode}): after Cancun a deployed contract's
   * code never changes, so a new head re-reads its nonce and balance only. Dropped on a reorg.
   */
  private readonly codes = new Map<string, { code: Uint8Array; codeHash: Uint8Array; block: number }>();
  private storage = new Map<string, Map<string, Uint8Array>>();
  private accountsInFlight = new Map<string, Promise<AccountState>>();
  private storageInFlight = new Map<string, Promise<Uint8Array>>();
  private queue: Pending[] = [];
  private flushScheduled = false;
  /** Counters; reset by nobody, read by metrics. */
  readonly stats: RpcStateStats = { hits: 0, misses: 0, batches: 0, calls: 0, errors: { STATE_RPC_ERROR: 0, STATE_TRANSPORT: 0, STATE_BAD_REPLY: 0 } };

  constructor(opts: RpcStateOptions) {
    if (typeof opts.url !== 'string' || opts.url === '') throw new TypeError('opts.url must be a JSON-RPC URL');
    if (!Number.isSafeInteger(opts.blockNumber) || opts.blockNumber < 0) throw new RangeError(`opts.blockNumber must be a block number, got ${opts.blockNumber}`);
    const maxBatch = opts.maxBatch ?? 256;
    if (!Number.isSafeInteger(maxBatch) || maxBatch < 1) throw new RangeError(`opts.maxBatch must be >= 1, got ${opts.maxBatch}`);
    this.url = opts.url;
    this.maxBatch = maxBatch;
    this.block = opts.blockNumber;
    this.tag = `0x${opts.blockNumber.toString(16)}`;
  }

  /** Block whose state is cached. */
  get blockNumber(): number {
    return this.block;
  }

  /** Accounts and slots cached, for metrics and tests. */
  get size(): { accounts: number; slots: number } {
    let slots = 0;
    for (const m of this.storage.values()) slots += m.size;
    return { accounts: this.accounts.size, slots };
  }

  /** Forgets the code kept across heads: after a reorg a contract may never have been deployed. */
  forgetCode(): void {
    this.codes.clear();
  }

  /** Drops the cache and reads from `blockNumber` on; called on every new head (and on a reorg). */
  invalidate(blockNumber: number): void {
    if (!Number.isSafeInteger(blockNumber) || blockNumber < 0) throw new RangeError(`blockNumber must be a block number, got ${blockNumber}`);
    this.generation++;
    this.block = blockNumber;
    this.tag = `0x${blockNumber.toString(16)}`;
    // Fresh maps rather than clear(): a simulation of the old block may still be reading them.
    this.accounts = new Map();
    this.storage = new Map();
    this.accountsInFlight = new Map();
    this.storageInFlight = new Map();
  }

  /**
   * What the cache holds, at most `max` keys (accounts first): the reads the last block's
   * simulations needed, which the next block's will mostly need again. Prefetching them in one
   * batch after {@link invalidate} turns a cold start of many sequential round trips into one.
   * @remarks Allocates; once per head.
   */
  hotKeys(max: number): { accounts: string[]; slots: [string, string][] } {
    const accounts = [...this.accounts.keys()].slice(0, max);
    const slots: [string, string][] = [];
    for (const [a, m] of this.storage) {
      for (const k of m.keys()) {
        if (accounts.length + slots.length >= max) return { accounts, slots };
        slots.push([a, k]);
      }
    }
    return { accounts, slots };
  }

  /** The cached account (lowercase 0x address), or undefined when it has not been read yet. */
  peekAccount(address: string): AccountState | undefined {
    return this.accounts.get(address);
  }

  /** The cached slot value (unpadded big-endian bytes; empty for zero), or undefined when not read yet. */
  peekStorage(address: string, slot: string): Uint8Array | undefined {
    return this.storage.get(address)?.get(slot);
  }

  /** The account at the cached block (lowercase 0x address); a missing account reads as nonce 0, balance 0, no code. */
  account(address: string): Promise<AccountState> | AccountState {
    const hit = this.accounts.get(address);
    if (hit !== undefined) {
      this.stats.hits++;
      return hit;
    }
    let p = this.accountsInFlight.get(address);
    if (p !== undefined) return p;
    this.stats.misses++;
    const gen = this.generation;
    const tag = this.tag;
    const readAt = this.block;
    const inFlight = this.accountsInFlight;
    const cached = this.codes.get(address);
    // Code read at a later block than this one (a replay's task for an older head) may not exist yet here.
    const known = cached !== undefined && cached.block <= this.block ? cached : undefined;
    p = Promise.all([
      this.call('eth_getTransactionCount', [address, tag]),
      this.call('eth_getBalance', [address, tag]),
      known === undefined ? this.call('eth_getCode', [address, tag]) : null,
    ]).then(([nonce, balance, code]) => this.counted(() => {
      let c = known;
      if (c === undefined) {
        const bytes = hexBytes(code, 'eth_getCode');
        c = { code: bytes, codeHash: bytes.length === 0 ? KECCAK256_EMPTY : keccak_256(bytes), block: readAt };
        if (gen === this.generation && immutableCode(bytes) && this.codes.size < MAX_CODES) this.codes.set(address, c);
      }
      const acc: AccountState = {
        nonce: quantity(nonce, 'eth_getTransactionCount'),
        balance: quantity(balance, 'eth_getBalance'),
        code: c.code,
        codeHash: c.codeHash,
      };
      if (gen === this.generation) this.accounts.set(address, acc);
      return acc;
    })).finally(() => {
      inFlight.delete(address);
    });
    inFlight.set(address, p);
    return p;
  }

  /** A storage slot (lowercase 0x address, 0x + 64 hex slot) as unpadded bytes (empty for zero), as ethereumjs state managers return it. */
  slot(address: string, slot: string): Promise<Uint8Array> | Uint8Array {
    let m = this.storage.get(address);
    const hit = m?.get(slot);
    if (hit !== undefined) {
      this.stats.hits++;
      return hit;
    }
    const key = address + slot;
    let p = this.storageInFlight.get(key);
    if (p !== undefined) return p;
    this.stats.misses++;
    const gen = this.generation;
    const inFlight = this.storageInFlight;
    p = this.call('eth_getStorageAt', [address, slot, this.tag]).then((value) => {
      const bytes = this.counted(() => unpad(hexBytes(value, 'eth_getStorageAt')));
      if (gen === this.generation) {
        if (m === undefined || this.storage.get(address) !== m) {
          m = this.storage.get(address);
          if (m === undefined) this.storage.set(address, (m = new Map()));
        }
        m.set(slot, bytes);
      }
      return bytes;
    }).finally(() => {
      inFlight.delete(key);
    });
    inFlight.set(key, p);
    return p;
  }

  /**
   * Warms the cache with `addresses` and `slots` (pairs of address and slot) in one batch: for a
   * known V2 pool, the pair (reserves are slot 8), its two tokens and their balance slots of the
   * pair. Rejects with the first failed read; what succeeded stays cached.
   */
  async prefetch(addresses: readonly string[], slots: readonly (readonly [address: string, slot: string])[] = []): Promise<void> {
    const reads: (Promise<unknown> | unknown)[] = [];
    for (const a of addresses) reads.push(this.account(a));
    for (const [a, s] of slots) reads.push(this.slot(a, s));
    await Promise.all(reads);
  }

  /** Everything cached, for copying into another state manager (the naive benchmark, captures). @remarks Allocates. */
  snapshot(): { accounts: Map<string, AccountState>; storage: Map<string, Map<string, Uint8Array>> } {
    return { accounts: new Map(this.accounts), storage: new Map([...this.storage].map(([a, m]) => [a, new Map(m)])) };
  }

  private call(method: string, params: unknown[]): Promise<unknown> {
    return new Promise((resolve, reject) => {
      this.queue.push({ method, params, resolve, reject });
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        // A microtask later every read issued in this turn (all of a prefetch, parallel simulations) is queued.
        queueMicrotask(() => this.flush());
      }
    });
  }

  private flush(): void {
    this.flushScheduled = false;
    const queue = this.queue;
    this.queue = [];
    for (let i = 0; i < queue.length; i += this.maxBatch) void this.send(queue.slice(i, i + this.maxBatch));
  }

  private async send(batch: Pending[]): Promise<void> {
    const first = nextId;
    nextId += batch.length;
    this.stats.batches++;
    this.stats.calls += batch.length;
    const body = JSON.stringify(batch.map((c, i) => ({ jsonrpc: '2.0', id: first + i, method: c.method, params: c.params })));
    let replies: unknown;
    try {
      const res = await fetch(this.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
      const text = await res.text();
      if (!res.ok) return this.failAll(batch, new StateReadError('STATE_TRANSPORT', `state read batch failed: HTTP ${res.status} ${text.slice(0, 200)}`));
      replies = JSON.parse(text);
    } catch (cause) {
      const code = cause instanceof SyntaxError ? 'STATE_BAD_REPLY' : 'STATE_TRANSPORT';
      return this.failAll(batch, new StateReadError(code, `state read batch to ${this.url} failed: ${cause instanceof Error ? cause.message : String(cause)}`, { cause }));
    }
    if (!Array.isArray(replies)) return this.failAll(batch, new StateReadError('STATE_BAD_REPLY', 'state read batch: reply is not a JSON-RPC batch'));
    const done = new Array<boolean>(batch.length).fill(false);
    for (const r of replies as { id?: unknown; result?: unknown; error?: { code?: number; message?: string } }[]) {
      const i = typeof r?.id === 'number' ? r.id - first : -1;
      const c = batch[i];
      if (c === undefined || done[i]) continue;
      done[i] = true;
      if (r.error) {
        this.stats.errors.STATE_RPC_ERROR++;
        c.reject(new StateReadError('STATE_RPC_ERROR', `${c.method} failed: ${r.error.message ?? 'unknown error'} (code ${r.error.code})`));
      } else {
        c.resolve(r.result);
      }
    }
    for (let i = 0; i < batch.length; i++) {
      if (done[i]) continue;
      this.stats.errors.STATE_BAD_REPLY++;
      batch[i]!.reject(new StateReadError('STATE_BAD_REPLY', `${batch[i]!.method}: no reply in the batch`));
    }
  }

  /** Runs a reply parser; a malformed result is counted under its code before it rejects the read. */
  private counted<T>(parse: () => T): T {
    try {
      return parse();
    } catch (err) {
      if (err instanceof StateReadError) this.stats.errors[err.code]++;
      throw err;
    }
  }

  private failAll(batch: Pending[], err: StateReadError): void {
    this.stats.errors[err.code] += batch.length;
    for (const c of batch) c.reject(err);
  }
}

const QUANTITY = /^0x[0-9a-fA-F]{1,64}$/;
const HEX_DATA = /^0x(?:[0-9a-fA-F]{2})*$/;

function quantity(v: unknown, method: string): bigint {
  // BigInt('0xzz') throws a SyntaxError, and '0x' is no number: both are a bad reply, said so.
  if (typeof v !== 'string' || !QUANTITY.test(v)) throw new StateReadError('STATE_BAD_REPLY', `${method}: expected a quantity, got ${JSON.stringify(v)?.slice(0, 80)}`);
  return BigInt(v);
}

function hexBytes(v: unknown, method: string): Uint8Array {
  // Buffer.from(…, 'hex') stops silently at the first bad digit: check every digit first.
  if (typeof v !== 'string' || !HEX_DATA.test(v)) throw new StateReadError('STATE_BAD_REPLY', `${method}: expected hex data, got ${JSON.stringify(v)?.slice(0, 80)}`);
  return v.length === 2 ? EMPTY : Uint8Array.from(Buffer.from(v.slice(2), 'hex'));
}

function unpad(b: Uint8Array): Uint8Array {
  let i = 0;
  while (i < b.length && b[i] === 0) i++;
  return i === 0 ? b : b.subarray(i);
}

/** A 32-byte storage slot number as the 0x + 64 hex key {@link RpcState.slot} takes. */
export function slotKey(slot: bigint | number): string {
  return `0x${BigInt(slot).toString(16).padStart(64, '0')}`;
}
