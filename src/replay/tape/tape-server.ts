import { listenOnLoopback } from './listen.js';
import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import { openCapture } from '../capture/capture-reader.js';
import type { MinedBlock, RpcErrorAnswer } from '../capture/format.js';
import { canonicalKey } from './canonical-key.js';
import { TAPE_PREFIX } from './tape-recorder.js';

/** Options of {@link TapeServer}. */
export interface TapeServerOptions {
  /** The tape directory (`<capture>/tape`, segments `tape-NNNNNN.orcap`). */
  dir: string;
  /** Accept a torn last record, as a crashed recorder leaves it. Default false: a cut-off tape is an error. */
  allowTruncatedTail?: boolean;
  /** Largest request body accepted; default 32 MiB. */
  maxRequestBytes?: number;
}

/** Counters of a {@link TapeServer}. */
export interface TapeServerStats {
  /** JSON-RPC calls answered (each element of a batch counts). */
  calls: number;
  /** Calls answered from the tape (a recorded result or error), code fallbacks included. */
  served: number;
  /** `eth_getCode` calls answered with the code recorded at an earlier block. */
  codeFallbacks: number;
  /** Keys the tape recorded with more than one distinct answer (the first is served). */
  conflicts: number;
  /** Calls the tape had no answer for. */
  misses: number;
  /** The first 20 distinct calls that missed, as sent. */
  firstMisses: Array<{ method: string; params: unknown }>;
}

/** A recorded answer: exactly one of `r` and `e`. */
interface Entry {
  r?: unknown;
  e?: RpcErrorAnswer;
}

/** An answer to one call. */
export type TapeAnswer = { result: unknown } | { error: RpcErrorAnswer };

/** JSON-RPC error code of a read the tape does not hold. */
export const TAPE_MISS_CODE = -32001;

const FIRST_MISSES = 20;

/** Code recorded for one address: parallel arrays sorted by block. */
interface CodeHistory {
  blocks: number[];
  codes: string[];
}

/** Block number of a numeric block parameter (`0x…` or `{ blockNumber: '0x…' }`), else -1. */
function blockNumberOf(tag: unknown): number {
  if (typeof tag === 'object' && tag !== null && !Array.isArray(tag)) tag = (tag as { blockNumber?: unknown }).blockNumber;
  if (typeof tag !== 'string' || !/^0x[0-9a-fA-F]{1,13}$/.test(tag)) return -1;
  return Number.parseInt(tag.slice(2), 16);
}

/** Whether code is an EIP-7702 delegation designator (`0xef0100` + 20-byte address): it can change at any time. */
function isDelegation(code: string): boolean {
  return code.length === 48 && code.slice(0, 8).toLowerCase() === '0xef0100';
}

/** Deep equality of two JSON values (as msgpack decoded them). */
function sameJson(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!sameJson(a[i], b[i])) return false;
    return true;
  }
  if (Array.isArray(b)) return false;
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  if (ka.length !== kb.length) return false;
  for (const k of ka) if (!sameJson((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k])) return false;
  return true;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * The serving half of the replay tape (docs/capture-format.md, "The replay tape"): loads every
 * `state` record of a tape into a map keyed by {@link canonicalKey} and answers JSON-RPC POSTs on
 * 127.0.0.1 (single calls and batches) with the recorded result or error, so a replay's engine reads
 * exactly the chain its capture run read, without a node.
 *
 * - A key recorded several times with different answers serves the first and counts a conflict.
 * - `eth_getCode` at block N without an exact record serves the code recorded for that address at
 *   the greatest block ≤ N, if that code is non-empty and not an EIP-7702 delegation: deployed code
 *   never changes after Cancun (no SELFDESTRUCT of old contracts), and the engine's state cache
 *   reuses code across blocks, so which block a code read names depends on cache timing.
 * - Anything else is a miss: JSON-RPC error {@link TAPE_MISS_CODE} naming method, params and tape,
 *   counted and remembered in `stats()`.
 *
 * Loading is synchronous, in the constructor; a damaged tape throws the reader's CaptureError
 * (kind, file, byte offset).
 */
export class TapeServer {
  /** The tape directory. */
  readonly dir: string;
  /** Chain id from the tape's header. */
  readonly chainId: number;
  /** `state` records loaded (the node reads the tape holds). */
  readonly size: number;
  /** Distinct keys loaded. */
  readonly keys: number;
  /** Milliseconds the load took. */
  readonly loadMs: number;

  private readonly answers = new Map<string, Entry>();
  private readonly code = new Map<string, CodeHistory>();
  private readonly minedByNumber = new Map<number, MinedBlock>();
  private readonly metaValue: Record<string, unknown> | null = null;
  private readonly maxRequestBytes: number;
  private readonly conflictKeys = new Set<string>();
  private readonly missKeys = new Set<string>();
  private readonly counters = { calls: 0, served: 0, codeFallbacks: 0, misses: 0 };
  private readonly firstMisses: Array<{ method: string; params: unknown }> = [];
  private server: Server | null = null;
  private address: string | null = null;
  private closing: Promise<void> | null = null;

  /** Loads the tape in `dir`; throws a CaptureError if it is missing or damaged. */
  constructor(options: TapeServerOptions) {
    const t0 = performance.now();
    this.dir = options.dir;
    this.maxRequestBytes = options.maxRequestBytes ?? 32 * 1024 * 1024;
    const reader = openCapture(options.dir, { prefix: TAPE_PREFIX, allowTruncatedTail: options.allowTruncatedTail === true });
    this.chainId = reader.header.chainId;
    let records = 0;
    for (const rec of reader.records()) {
      if (rec.t === 'state') {
        records++;
        const key = canonicalKey(rec.m, rec.p);
        const prior = this.answers.get(key);
        if (prior !== undefined) {
          if (!this.conflictKeys.has(key) && !sameAnswer(prior, rec)) this.conflictKeys.add(key);
          continue;
        }
        this.answers.set(key, rec.e === undefined ? { r: rec.r } : { e: rec.e });
        if (rec.m === 'eth_getCode' && rec.e === undefined && typeof rec.r === 'string' && typeof rec.p[0] === 'string') this.noteCode(rec.p[0], rec.p[1], rec.r);
      } else if (rec.t === 'mined') {
        // A later record of the same height is the chain after a reorg.
        this.minedByNumber.set(rec.block.number, rec.block);
      } else if (rec.t === 'meta') {
        this.metaValue ??= rec.meta;
      }
    }
    for (const h of this.code.values()) sortHistory(h);
    this.size = records;
    this.keys = this.answers.size;
    this.loadMs = performance.now() - t0;
  }

  /** `http://127.0.0.1:<port>`; throws before {@link start}. */
  get url(): string {
    if (this.address === null) throw new Error('tape server: not started');
    return this.address;
  }

  /** Listens on 127.0.0.1 and a port the kernel picks. */
  async start(): Promise<void> {
    if (this.server !== null) return;
    if (this.closing !== null) throw new Error('tape server: closed');
    const server = createServer((req, res) => void this.handle(req, res));
    this.server = server;
    this.address = await listenOnLoopback(server);
  }

  /**
   * The answer to one call, counted in `stats()` as if it came over HTTP: the recorded result or
   * error, a code fallback, or a miss error. For in-process replay without the HTTP hop; the result
   * is the tape's own value, shared by every caller: do not mutate it.
   */
  answer(method: string, params: unknown): TapeAnswer {
    this.counters.calls++;
    const p = params === undefined ? [] : params;
    const key = canonicalKey(method, p);
    const hit = this.answers.get(key);
    if (hit !== undefined) {
      this.counters.served++;
      return hit.e === undefined ? { result: hit.r } : { error: hit.e };
    }
    if (method === 'eth_getCode' && Array.isArray(p) && typeof p[0] === 'string') {
      const code = this.codeAtOrBefore(p[0], blockNumberOf(p[1]));
      if (code !== null) {
        this.counters.served++;
        this.counters.codeFallbacks++;
        return { result: code };
      }
    }
    this.counters.misses++;
    if (this.firstMisses.length < FIRST_MISSES && !this.missKeys.has(key)) {
      this.missKeys.add(key);
      this.firstMisses.push({ method, params: p });
    }
    return { error: { code: TAPE_MISS_CODE, message: `capture lacks state read: ${method} ${JSON.stringify(p)} (tape ${this.dir})` } };
  }

  /** Counters so far. @remarks Allocates. */
  stats(): TapeServerStats {
    return { ...this.counters, conflicts: this.conflictKeys.size, firstMisses: this.firstMisses.map((m) => ({ ...m })) };
  }

  /** The payload of the tape's `meta` record (the capture run's config), or null when it has none. */
  meta(): Record<string, unknown> | null {
    return this.metaValue;
  }

  /** The mined blocks in block order; of two records for one height, the later (post-reorg) one. */
  mined(): MinedBlock[] {
    return [...this.minedByNumber.values()].sort((a, b) => a.number - b.number);
  }

  /** Stops listening and drops open connections. Idempotent. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      const server = this.server;
      if (server === null) return;
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
    })();
    return this.closing;
  }

  private noteCode(address: string, tag: unknown, code: string): void {
    const n = blockNumberOf(tag);
    if (n < 0) return;
    const a = address.toLowerCase();
    let h = this.code.get(a);
    if (h === undefined) {
      h = { blocks: [], codes: [] };
      this.code.set(a, h);
    }
    h.blocks.push(n);
    h.codes.push(code);
  }

  /** Code recorded for `address` at the greatest block ≤ `n`, when it is deployed code; else null. */
  private codeAtOrBefore(address: string, n: number): string | null {
    if (n < 0) return null;
    const h = this.code.get(address.toLowerCase());
    if (h === undefined) return null;
    // Greatest index with blocks[i] <= n.
    let lo = 0;
    let hi = h.blocks.length - 1;
    let at = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (h.blocks[mid]! <= n) {
        at = mid;
        lo = mid + 1;
      } else {
        hi = mid - 1;
      }
    }
    if (at < 0) return null;
    const code = h.codes[at]!;
    return code.length > 2 && !isDelegation(code) ? code : null;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      if (req.method !== 'POST') {
        res.writeHead(405, { 'content-type': 'application/json', allow: 'POST' });
        res.end('{"jsonrpc":"2.0","id":null,"error":{"code":-32600,"message":"only POST is supported"}}');
        return;
      }
      const chunks: Buffer[] = [];
      let size = 0;
      for await (const chunk of req) {
        size += (chunk as Buffer).length;
        if (size > this.maxRequestBytes) {
          res.writeHead(413, { 'content-type': 'application/json' });
          res.end(`{"jsonrpc":"2.0","id":null,"error":{"code":-32600,"message":"request larger than ${this.maxRequestBytes} bytes"}}`);
          return;
        }
        chunks.push(chunk as Buffer);
      }
      let request: unknown;
      try {
        request = JSON.parse(Buffer.concat(chunks, size).toString('utf8'));
      } catch {
        return send(res, { jsonrpc: '2.0', id: null, error: { code: -32700, message: 'Parse error' } });
      }
      if (Array.isArray(request)) {
        if (request.length === 0) return send(res, { jsonrpc: '2.0', id: null, error: { code: -32600, message: 'Invalid Request: empty batch' } });
        const out: unknown[] = [];
        for (const call of request) {
          const reply = this.reply(call);
          if (reply !== null) out.push(reply);
        }
        // A batch of notifications only gets no body, as JSON-RPC 2.0 says.
        if (out.length === 0) {
          res.writeHead(200);
          res.end();
          return;
        }
        return send(res, out);
      }
      const reply = this.reply(request);
      if (reply === null) {
        res.writeHead(200);
        res.end();
        return;
      }
      send(res, reply);
    } catch {
      // The client went away mid-request.
      res.destroy();
    }
  }

  /** The reply object to one call, or null for a notification. */
  private reply(call: unknown): unknown {
    if (!isObject(call) || typeof call.method !== 'string') {
      return { jsonrpc: '2.0', id: isObject(call) && call.id !== undefined ? call.id : null, error: { code: -32600, message: 'Invalid Request' } };
    }
    const a = this.answer(call.method, call.params);
    if (call.id === undefined) return null;
    return 'error' in a ? { jsonrpc: '2.0', id: call.id, error: a.error } : { jsonrpc: '2.0', id: call.id, result: a.result };
  }
}

function sameAnswer(prior: Entry, rec: { r?: unknown; e?: RpcErrorAnswer }): boolean {
  if (prior.e !== undefined || rec.e !== undefined) return prior.e !== undefined && rec.e !== undefined && prior.e.code === rec.e.code && prior.e.message === rec.e.message;
  return sameJson(prior.r, rec.r);
}

/** Sorts a code history by block, keeping the first record of a block first (a stable sort). */
function sortHistory(h: CodeHistory): void {
  let sorted = true;
  for (let i = 1; i < h.blocks.length && sorted; i++) if (h.blocks[i]! < h.blocks[i - 1]!) sorted = false;
  if (sorted) return;
  const order = h.blocks.map((_, i) => i).sort((x, y) => h.blocks[x]! - h.blocks[y]! || x - y);
  h.blocks = order.map((i) => h.blocks[i]!);
  h.codes = order.map((i) => h.codes[i]!);
}

function send(res: ServerResponse, body: unknown): void {
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}
