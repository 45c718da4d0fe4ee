import WebSocket from 'ws';
import type { BlockEvent, RpcTransaction } from '../../../messages/schema.js';
import { monoNs } from '../../../runtime/clock.js';
import { OrionError } from '../../../runtime/errors.js';
import { HashWindow } from '../hash-window.js';
import { BAD_FRAME_CODES, type BadFrameCode, type Source, type SourceMode, type SourceSink, type SourceStats } from './source.js';

/** Exponential backoff between connection attempts: `min(maxMs, initialMs · factor^n)`, jittered. */
export interface ReconnectPolicy {
  /** Delay before the first retry. */
  initialMs: number;
  /** Cap on the delay. */
  maxMs: number;
  /** Growth per failed attempt (≥ 1). */
  factor: number;
}

/** Options of {@link RpcWsSource}; only `url` is required. */
export interface RpcWsSourceOptions {
  /** `ws://` or `wss://` endpoint of the node. */
  url: string;
  /** Name for logs and metrics; default `rpc-ws:<host>`. */
  name?: string;
  /** `full` objects, `hashes` + batched fetch, or `auto`: full, falling back to hashes when the node refuses. */
  mode?: 'auto' | 'full' | 'hashes';
  /** Hashes per fetch batch (one JSON-RPC batch request). */
  fetchBatch?: number;
  /** How long the first queued hash waits for others before its batch goes out. */
  fetchDelayMs?: number;
  /** Backoff between attempts; default 100 ms doubling up to 10 s. */
  reconnect?: Partial<ReconnectPolicy>;
  /** After a reconnect, fetch what is pending (`txpool_content`, else the pending block) to cover the gap. */
  backfillOnReconnect?: boolean;
  /** Hashes remembered so none is delivered twice (across reconnects and backfills). */
  recentHashes?: number;
  /** Frames larger than this are dropped unparsed (`oversized`); 4× this closes the connection. */
  maxFrameBytes?: number;
  /** A request unanswered this long is given up (checked every `heartbeatMs`, or every `requestTimeoutMs` without heartbeat). */
  requestTimeoutMs?: number;
  /** Ping period; a connection that answered nothing for a whole period is closed. 0 disables. */
  heartbeatMs?: number;
  /** Websocket opening handshake timeout. */
  connectTimeoutMs?: number;
}

/** {@link RpcWsSourceOptions} with every default applied. */
export type ResolvedRpcWsOptions = Readonly<Required<Omit<RpcWsSourceOptions, 'reconnect'>> & { reconnect: Readonly<ReconnectPolicy> }>;

/** Defaults of {@link RpcWsSourceOptions}. */
export const RPC_WS_DEFAULTS = Object.freeze({
  mode: 'auto',
  fetchBatch: 100,
  fetchDelayMs: 2,
  reconnect: Object.freeze({ initialMs: 100, maxMs: 10_000, factor: 2 }),
  backfillOnReconnect: true,
  recentHashes: 65_536,
  // A JSON-RPC batch of 100 raw transactions, or a busy node's txpool_content, runs to megabytes.
  maxFrameBytes: 16 * 1024 * 1024,
  requestTimeoutMs: 10_000,
  heartbeatMs: 10_000,
  connectTimeoutMs: 10_000,
} as const);

/** Applies defaults and checks every field, throwing a `TypeError`/`RangeError` that names it. */
export function resolveRpcWsOptions(opts: RpcWsSourceOptions): ResolvedRpcWsOptions {
  const d = RPC_WS_DEFAULTS;
  if (typeof opts.url !== 'string' || !/^wss?:\/\//i.test(opts.url)) throw new TypeError(`rpc-ws: url must be a ws:// or wss:// URL, got ${JSON.stringify(opts.url)}`);
  let host: string;
  try {
    host = new URL(opts.url).host;
  } catch {
    throw new TypeError(`rpc-ws: url is not a valid URL: ${JSON.stringify(opts.url)}`);
  }
  const mode = opts.mode ?? d.mode;
  if (mode !== 'auto' && mode !== 'full' && mode !== 'hashes') throw new TypeError(`rpc-ws: mode must be 'auto', 'full' or 'hashes', got ${JSON.stringify(mode)}`);
  const int = (field: string, v: number, min: number) => {
    if (!Number.isInteger(v) || v < min) throw new RangeError(`rpc-ws: ${field} must be an integer >= ${min}, got ${v}`);
    return v;
  };
  const num = (field: string, v: number, min: number) => {
    if (typeof v !== 'number' || !Number.isFinite(v) || v < min) throw new RangeError(`rpc-ws: ${field} must be a number >= ${min}, got ${v}`);
    return v;
  };
  const reconnect = {
    initialMs: num('reconnect.initialMs', opts.reconnect?.initialMs ?? d.reconnect.initialMs, 1),
    maxMs: num('reconnect.maxMs', opts.reconnect?.maxMs ?? d.reconnect.maxMs, 1),
    factor: num('reconnect.factor', opts.reconnect?.factor ?? d.reconnect.factor, 1),
  };
  if (reconnect.maxMs < reconnect.initialMs) throw new RangeError(`rpc-ws: reconnect.maxMs (${reconnect.maxMs}) must be >= reconnect.initialMs (${reconnect.initialMs})`);
  const backfill = opts.backfillOnReconnect ?? d.backfillOnReconnect;
  if (typeof backfill !== 'boolean') throw new TypeError(`rpc-ws: backfillOnReconnect must be a boolean, got ${JSON.stringify(backfill)}`);
  return Object.freeze({
    url: opts.url,
    name: opts.name ?? `rpc-ws:${host}`,
    mode,
    fetchBatch: int('fetchBatch', opts.fetchBatch ?? d.fetchBatch, 1),
    fetchDelayMs: num('fetchDelayMs', opts.fetchDelayMs ?? d.fetchDelayMs, 0),
    reconnect: Object.freeze(reconnect),
    backfillOnReconnect: backfill,
    recentHashes: int('recentHashes', opts.recentHashes ?? d.recentHashes, 1),
    maxFrameBytes: int('maxFrameBytes', opts.maxFrameBytes ?? d.maxFrameBytes, 1024),
    requestTimeoutMs: num('requestTimeoutMs', opts.requestTimeoutMs ?? d.requestTimeoutMs, 1),
    heartbeatMs: num('heartbeatMs', opts.heartbeatMs ?? d.heartbeatMs, 0),
    connectTimeoutMs: num('connectTimeoutMs', opts.connectTimeoutMs ?? d.connectTimeoutMs, 1),
  });
}

// What a request in flight was for; numbers so the reply switch compares small integers.
const SUB_FULL = 1;
const SUB_HASHES = 2;
const SUB_HEADS = 3;
const FETCH_RAW = 4;
const FETCH_RPC = 5;
const BACKFILL_POOL = 6;
const BACKFILL_BLOCK = 7;

/** A request in flight. `hash`/`seenNs`: the fetched hash and when it was announced (fetches only). */
interface Pending {
  kind: number;
  sentNs: number;
  hash: string;
  seenNs: number;
}

/** One websocket connection and what it has subscribed; replaced wholesale on reconnect. */
interface Conn {
  ws: WebSocket;
  /** Set on close or stop: late events of this socket are ignored. */
  dead: boolean;
  opened: boolean;
  /** A reconnection (backfill applies), not the first connection. */
  reconnect: boolean;
  pendingSub: string | null;
  headsSub: string | null;
  /** Subscribe requests not yet answered; notifications for unknown ids wait while this is > 0. */
  subsOutstanding: number;
  /** Notifications that raced ahead of their subscription's reply (the node answers out of order). */
  parked: { sub: unknown; result: unknown; seenNs: number }[] | null;
  /** Anything heard since the last heartbeat tick. */
  alive: boolean;
  heartbeat: NodeJS.Timeout | null;
}

const HASH_RE = /^0x[0-9a-f]{64}$/;
const HASH_ANYCASE_RE = /^0x[0-9a-fA-F]{64}$/;
const ADDRESS_RE = /^0x[0-9a-fA-F]{40}$/;
const QUANTITY_RE = /^0x[0-9a-fA-F]{1,64}$/;
const ZERO_HASH = `0x${'0'.repeat(64)}`;
/** Parked notifications kept per connection before the rest are counted as unknown. */
const MAX_PARKED = 4096;

// offerTx results.
const DELIVERED = 0;
const DUPLICATE = 1;
const REJECTED = 2;

/** The hash lowercased, or null when it is not a 32-byte 0x-hex string. */
function normHash(h: unknown): string | null {
  if (typeof h !== 'string' || h.length !== 66) return null;
  // Nodes send lowercase; the test avoids a new string in that common case.
  if (HASH_RE.test(h)) return h;
  return HASH_ANYCASE_RE.test(h) ? h.toLowerCase() : null;
}

/** 0x-hex to bytes in a fresh, unpooled buffer (consumers may keep or transfer it); null when not hex. */
function hexToBytes(hex: unknown): Uint8Array | null {
  if (typeof hex !== 'string' || hex.length < 4 || (hex.length & 1) !== 0 || hex.charCodeAt(0) !== 48 || (hex.charCodeAt(1) | 32) !== 120) return null;
  const n = (hex.length - 2) >>> 1;
  const out = new Uint8Array(n);
  // Buffer#write stops at the first non-hex pair, so a short count means bad input.
  return Buffer.from(out.buffer, out.byteOffset, n).write(hex.slice(2), 'hex') === n ? out : null;
}

/** A node's way of saying "no such method" (anvil answers -32602 "did not match any variant"). */
function isMethodMissing(err: unknown): boolean {
  if (typeof err !== 'object' || err === null) return false;
  const { code, message } = err as { code?: unknown; message?: unknown };
  if (code === -32601) return true;
  return typeof message === 'string' && /method .*(?:not found|not supported|not available|does not exist)|unsupported method|unknown method|not implemented|did not match any variant/i.test(message);
}

function describeRpcError(err: unknown): string {
  if (typeof err !== 'object' || err === null) return String(err);
  const { code, message } = err as { code?: unknown; message?: unknown };
  return `${String(code)} ${typeof message === 'string' ? message.slice(0, 200) : ''}`.trim();
}

function quantityNumber(v: unknown): number {
  // ≤ 13 hex digits keeps it below 2^52: block numbers and timestamps, exact as a double.
  return typeof v === 'string' && v.length <= 15 && QUANTITY_RE.test(v) ? parseInt(v, 16) : NaN;
}

function quantityBig(v: unknown): bigint | null {
  return typeof v === 'string' && QUANTITY_RE.test(v) ? BigInt(v) : null;
}

/**
 * Ingest source for a node's JSON-RPC websocket (geth, reth, erigon, nethermind, anvil).
 *
 * - Subscribes to `newPendingTransactions` with full objects and to `newHeads`. In `auto`, a node
 *   that refuses full objects (error reply) or sends hashes anyway puts the source in hash mode:
 *   hashes are batched for `fetchDelayMs` (or `fetchBatch` of them) and fetched in one JSON-RPC batch
 *   over the same socket, with `eth_getRawTransactionByHash` (delivers `raw`), falling back per hash
 *   and then for good to `eth_getTransactionByHash` (delivers `rpc`) when the node lacks it.
 * - A transaction's `seenNs` is when its first frame arrived: the notification, also in hash mode,
 *   so per-source lag compares announcements rather than fetch round trips.
 * - Reconnects with jittered exponential backoff, resubscribes, and backfills what was pending during
 *   the gap. A bounded window of delivered hashes (plus the set being fetched) ensures no hash is
 *   delivered twice by this source, across reconnects and backfills.
 * - Bad input (non-JSON, oversized, unknown subscription, malformed objects, error replies) is
 *   counted by {@link BadFrameCode} and reported, and the source keeps running.
 *
 * Hot path (full mode): `message` → `monoNs()` → one `JSON.parse` → a hash check and a window lookup
 * → `sink.tx` with the parsed object itself; nothing else is allocated per frame. Per-message deflate
 * is off (inflating runs on the libuv pool, a thread hop per frame) and UTF-8 validation is skipped
 * (`JSON.parse` rejects what matters).
 *
 * The sink must not throw: an exception from it propagates out of the socket handler, as a bug should.
 */
export class RpcWsSource implements Source {
  readonly name: string;
  private readonly opts: ResolvedRpcWsOptions;
  private readonly endpoint: string;
  /** Hashes delivered recently, values unused: membership is what dedupes. */
  private readonly recent: HashWindow<true>;
  /** Hashes queued or being fetched: announced, not yet delivered. */
  private readonly inflight = new Set<string>();
  private readonly requests = new Map<number, Pending>();
  // The fetch queue, two parallel arrays reused across batches.
  private readonly queueHashes: string[] = [];
  private readonly queueSeen: number[] = [];
  private nextId = 1;
  private conn: Conn | null = null;
  private started = false;
  private stopped = false;
  private stopping: Promise<void> | null = null;
  private onStopped: (() => void) | null = null;
  private killTimer: NodeJS.Timeout | null = null;
  private reconnectTimer: NodeJS.Timeout | null = null;
  private fetchTimer: NodeJS.Timeout | null = null;
  /** Failed attempts since the last healthy connection; the backoff exponent. */
  private failures = 0;
  private everConnected = false;
  private mode: SourceMode;
  private rawSupported = true;
  private lastHead: { number: number; hash: string } | null = null;
  private readonly flushBound = () => this.flushFetches();
  private readonly connectBound = () => this.connect();

  // Counters (see SourceStats).
  private connectAttempts = 0;
  private reconnects = 0;
  private frames = 0;
  private txs = 0;
  private blocks = 0;
  private duplicates = 0;
  private fetches = 0;
  private fetchErrors = 0;
  private fetchMissing = 0;
  private backfilled = 0;
  private readonly badFrames = Object.fromEntries(BAD_FRAME_CODES.map((c) => [c, 0])) as Record<BadFrameCode, number>;
  private lastError: string | null = null;

  /** A source that connects on {@link start}; options are checked here (`TypeError`/`RangeError`). */
  constructor(
    readonly id: number,
    options: RpcWsSourceOptions,
    private readonly sink: SourceSink,
  ) {
    this.opts = resolveRpcWsOptions(options);
    this.name = this.opts.name;
    const u = new URL(this.opts.url);
    // Provider URLs carry API keys in the path or userinfo: logs get scheme and host only.
    this.endpoint = `${u.protocol}//${u.host}`;
    this.recent = new HashWindow<true>(this.opts.recentHashes);
    this.mode = this.opts.mode === 'hashes' ? 'hashes' : 'full';
  }

  /** Connects in the background; idempotent. */
  start(): void {
    if (this.stopped) throw new OrionError('ORION_ERR_INGEST', `${this.name}: start() after stop()`);
    if (this.started) return;
    this.started = true;
    this.connect();
  }

  /** Closes the socket (gracefully, then forcibly after 1 s), cancels every timer, reports `stopped`. */
  stop(): Promise<void> {
    if (this.stopping) return this.stopping;
    this.stopped = true;
    this.clearTimer('reconnectTimer');
    this.clearTimer('fetchTimer');
    const conn = this.conn;
    this.stopping = new Promise<void>((resolve) => {
      if (conn === null || conn.ws.readyState === WebSocket.CLOSED) {
        if (conn) this.teardown(conn);
        resolve();
        return;
      }
      this.onStopped = resolve;
      if (conn.heartbeat) clearInterval(conn.heartbeat);
      conn.heartbeat = null;
      conn.ws.close(1000, 'stop');
      // A node that never answers the close frame must not hold stop() for ws's 30 s default.
      this.killTimer = setTimeout(() => conn.ws.terminate(), 1000);
    }).then(() => {
      this.sink.status(this.id, { type: 'stopped' });
    });
    return this.stopping;
  }

  /** A snapshot of the counters. @remarks Allocates; not for the hot path. */
  stats(): SourceStats {
    return {
      connected: this.conn?.opened === true && !this.conn.dead,
      connectAttempts: this.connectAttempts,
      reconnects: this.reconnects,
      frames: this.frames,
      txs: this.txs,
      blocks: this.blocks,
      duplicatesSuppressed: this.duplicates,
      fetches: this.fetches,
      fetchErrors: this.fetchErrors,
      fetchMissing: this.fetchMissing,
      backfilled: this.backfilled,
      badFrames: { ...this.badFrames },
      mode: this.mode,
      lastError: this.lastError,
    };
  }

  // ---- connection lifecycle ----

  private connect(): void {
    this.reconnectTimer = null;
    if (this.stopped) return;
    this.connectAttempts++;
    let ws: WebSocket;
    try {
      ws = new WebSocket(this.opts.url, {
        perMessageDeflate: false,
        skipUTF8Validation: true,
        maxPayload: this.opts.maxFrameBytes * 4,
        handshakeTimeout: this.opts.connectTimeoutMs,
      });
    } catch (cause) {
      this.fail('cannot open websocket', undefined, cause);
      this.scheduleReconnect();
      return;
    }
    ws.binaryType = 'nodebuffer';
    const conn: Conn = {
      ws, dead: false, opened: false, reconnect: this.everConnected, pendingSub: null, headsSub: null,
      subsOutstanding: 0, parked: null, alive: true, heartbeat: null,
    };
    this.conn = conn;
    ws.on('open', () => this.onOpen(conn));
    ws.on('message', (data: WebSocket.RawData) => {
      // Arrival time first: everything after it is this source's own latency.
      const seenNs = monoNs();
      if (conn.dead || this.stopped) return;
      conn.alive = true;
      this.onFrame(conn, data as Buffer, seenNs);
    });
    ws.on('pong', () => { conn.alive = true; });
    ws.on('error', (err: Error & { code?: string }) => {
      if (this.stopped || conn.dead) return;
      if (err.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH') this.bad('oversized', `frame above the ${this.opts.maxFrameBytes * 4}-byte hard limit; connection closed`);
      else this.fail(conn.opened ? 'websocket error' : 'cannot connect', err.message, err);
    });
    ws.on('close', (code: number, reason: Buffer) => this.onClose(conn, code, reason));
    // Reported once the socket exists, so a sink that calls stop() from here closes it.
    this.sink.status(this.id, { type: 'connecting', endpoint: this.endpoint, attempt: this.connectAttempts });
  }

  private onOpen(conn: Conn): void {
    if (conn.dead || this.stopped) return;
    conn.opened = true;
    if (conn.reconnect) this.reconnects++;
    this.everConnected = true;
    this.subscribePending(conn);
    this.request(conn, SUB_HEADS, 'eth_subscribe', '["newHeads"]');
    conn.subsOutstanding++;
    // Without a heartbeat the tick still runs, at the request timeout, to expire requests.
    conn.heartbeat = setInterval(() => this.tick(conn), this.opts.heartbeatMs > 0 ? this.opts.heartbeatMs : this.opts.requestTimeoutMs);
    this.sink.status(this.id, { type: 'connected', endpoint: this.endpoint, reconnect: conn.reconnect });
  }

  private subscribePending(conn: Conn): void {
    if (this.mode === 'full') this.request(conn, SUB_FULL, 'eth_subscribe', '["newPendingTransactions",true]');
    else this.request(conn, SUB_HASHES, 'eth_subscribe', '["newPendingTransactions"]');
    conn.subsOutstanding++;
  }

  /** Liveness (when `heartbeatMs` > 0) and request expiry. */
  private tick(conn: Conn): void {
    if (conn.dead) return;
    if (this.opts.heartbeatMs > 0) {
      if (!conn.alive) {
        conn.ws.terminate();
        this.fail('node unresponsive', `no frame or pong for ${this.opts.heartbeatMs} ms; reconnecting`);
        return;
      }
      conn.alive = false;
      conn.ws.ping();
    }
    const cutoff = monoNs() - this.opts.requestTimeoutMs * 1e6;
    let expiredFetches = 0;
    for (const [id, req] of this.requests) {
      if (req.sentNs > cutoff) continue;
      this.requests.delete(id);
      if (req.kind === FETCH_RAW || req.kind === FETCH_RPC) {
        this.inflight.delete(req.hash);
        this.fetchErrors++;
        expiredFetches++;
      } else if (req.kind === SUB_FULL || req.kind === SUB_HASHES || req.kind === SUB_HEADS) {
        // A node that never confirms a subscription is broken: start over on a fresh connection.
        conn.ws.terminate();
        this.fail('subscription unanswered', `no reply within ${this.opts.requestTimeoutMs} ms; reconnecting`);
        return;
      } else if (req.kind === BACKFILL_POOL) {
        // Likely a pool too large for maxFrameBytes (dropped unparsed): the pending block is smaller.
        this.request(conn, BACKFILL_BLOCK, 'eth_getBlockByNumber', '["pending",true]');
        this.fail('backfill unanswered', `txpool_content: no reply within ${this.opts.requestTimeoutMs} ms; trying the pending block`);
      } else {
        this.fail('backfill unanswered', `eth_getBlockByNumber("pending", true): no reply within ${this.opts.requestTimeoutMs} ms`);
      }
    }
    if (expiredFetches > 0) this.fail('fetch timed out', `${expiredFetches} transaction fetches unanswered within ${this.opts.requestTimeoutMs} ms`);
  }

  private onClose(conn: Conn, code: number, reason: Buffer): void {
    if (conn.dead && this.conn !== conn) return;
    const wasOpen = conn.opened;
    this.teardown(conn);
    if (this.stopped) {
      this.clearTimer('killTimer');
      const done = this.onStopped;
      this.onStopped = null;
      done?.();
      return;
    }
    if (wasOpen) this.sink.status(this.id, { type: 'disconnected', code, reason: reason.toString('utf8') });
    // After the event: a sink that stopped the source from it gets no retry (scheduleReconnect checks).
    this.scheduleReconnect();
  }

  /** Forgets a connection's requests and queue: what they would have delivered comes back by backfill. */
  private teardown(conn: Conn): void {
    conn.dead = true;
    if (conn.heartbeat) clearInterval(conn.heartbeat);
    conn.heartbeat = null;
    conn.parked = null;
    if (this.conn === conn) this.conn = null;
    this.clearTimer('fetchTimer');
    for (const req of this.requests.values()) if (req.kind === FETCH_RAW || req.kind === FETCH_RPC) this.inflight.delete(req.hash);
    this.requests.clear();
    for (const h of this.queueHashes) this.inflight.delete(h);
    this.queueHashes.length = 0;
    this.queueSeen.length = 0;
  }

  private scheduleReconnect(): void {
    if (this.stopped || this.reconnectTimer) return;
    const r = this.opts.reconnect;
    const base = Math.min(r.maxMs, r.initialMs * r.factor ** this.failures);
    // Equal jitter: half fixed (no hammering), half random (sources that lost one node spread out).
    const delayMs = Math.round(base / 2 + (Math.random() * base) / 2);
    this.failures++;
    // Timer first: a sink that calls stop() from the status event cancels it.
    this.reconnectTimer = setTimeout(this.connectBound, delayMs);
    this.sink.status(this.id, { type: 'retry', attempt: this.failures, delayMs });
  }

  private clearTimer(name: 'reconnectTimer' | 'fetchTimer' | 'killTimer'): void {
    const t = this[name];
    if (t) clearTimeout(t);
    this[name] = null;
  }

  private request(conn: Conn, kind: number, method: string, params: string): void {
    const id = this.nextId++;
    this.requests.set(id, { kind, sentNs: monoNs(), hash: '', seenNs: 0 });
    conn.ws.send(`{"jsonrpc":"2.0","id":${id},"method":"${method}","params":${params}}`);
  }

  // ---- frames ----

  private onFrame(conn: Conn, data: Buffer, seenNs: number): void {
    this.frames++;
    if (data.length > this.opts.maxFrameBytes) {
      this.bad('oversized', `${data.length} bytes > maxFrameBytes ${this.opts.maxFrameBytes}`);
      return;
    }
    let msg: unknown;
    try {
      msg = JSON.parse(data.toString('utf8'));
    } catch (e) {
      this.bad('not-json', `${data.length} bytes: ${(e as Error).message.slice(0, 120)}`);
      return;
    }
    if (typeof msg !== 'object' || msg === null) {
      this.bad('unexpected-frame', `JSON ${typeof msg}, not an object`);
      return;
    }
    if (Array.isArray(msg)) {
      // A batch reply (our fetches); elements are replies in any order.
      for (let i = 0; i < msg.length; i++) this.onReply(conn, msg[i], seenNs);
      return;
    }
    const m = msg as Record<string, unknown>;
    if (m.method === 'eth_subscription') this.onNotification(conn, m.params, seenNs);
    else this.onReply(conn, m, seenNs);
  }

  private onNotification(conn: Conn, params: unknown, seenNs: number): void {
    if (typeof params !== 'object' || params === null) {
      this.bad('unexpected-frame', 'eth_subscription without params');
      return;
    }
    const { subscription: sub, result } = params as { subscription?: unknown; result?: unknown };
    if (sub === conn.pendingSub) {
      if (typeof result === 'string') this.onAnnouncedHash(result, seenNs);
      else if (this.offerTx(result, seenNs) === REJECTED) this.bad('malformed-tx', 'pending-tx notification without a tx object with a 32-byte hash');
    } else if (sub === conn.headsSub) {
      this.onHead(result, seenNs);
    } else if (conn.subsOutstanding > 0 && (conn.parked?.length ?? 0) < MAX_PARKED) {
      // The node may notify before it has answered the subscribe (replies come out of order).
      (conn.parked ??= []).push({ sub, result, seenNs });
    } else {
      this.bad('unknown-subscription', `subscription ${String(sub).slice(0, 80)}`);
    }
  }

  /** Delivers a full tx object unless already delivered or being fetched. */
  private offerTx(obj: unknown, seenNs: number): number {
    if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) return REJECTED;
    const hash = normHash((obj as Record<string, unknown>).hash);
    if (hash === null) return REJECTED;
    if (this.recent.get(hash) !== undefined || this.inflight.has(hash)) {
      this.duplicates++;
      return DUPLICATE;
    }
    this.recent.add(hash, true);
    this.txs++;
    this.sink.tx(this.id, seenNs, hash, null, obj as RpcTransaction);
    return DELIVERED;
  }

  private onAnnouncedHash(h: string, seenNs: number): void {
    if (this.opts.mode === 'full') {
      this.bad('malformed-tx', 'hash string on a full-object subscription (mode is forced to full)');
      return;
    }
    if (this.mode === 'full') this.setMode('hashes', 'the node sends hashes on the full-object subscription');
    const hash = normHash(h);
    if (hash === null) this.bad('malformed-tx', `pending-tx hash ${JSON.stringify(h.slice(0, 80))}`);
    else this.offerHash(hash, seenNs);
  }

  /** Queues a hash for fetching unless already delivered or in flight. */
  private offerHash(hash: string, seenNs: number): number {
    if (this.recent.get(hash) !== undefined || this.inflight.has(hash)) {
      this.duplicates++;
      return DUPLICATE;
    }
    this.inflight.add(hash);
    this.enqueue(hash, seenNs);
    return DELIVERED;
  }

  private enqueue(hash: string, seenNs: number): void {
    this.queueHashes.push(hash);
    this.queueSeen.push(seenNs);
    if (this.queueHashes.length >= this.opts.fetchBatch) this.flushFetches();
    else if (this.fetchTimer === null) this.fetchTimer = setTimeout(this.flushBound, this.opts.fetchDelayMs);
  }

  /** Sends the queued hashes as one JSON-RPC batch. */
  private flushFetches(): void {
    this.clearTimer('fetchTimer');
    const conn = this.conn;
    const n = this.queueHashes.length;
    if (n === 0 || conn === null || conn.dead) return;
    const kind = this.rawSupported ? FETCH_RAW : FETCH_RPC;
    const method = this.rawSupported ? 'eth_getRawTransactionByHash' : 'eth_getTransactionByHash';
    const now = monoNs();
    let body = '[';
    for (let i = 0; i < n; i++) {
      const id = this.nextId++;
      const hash = this.queueHashes[i]!;
      this.requests.set(id, { kind, sentNs: now, hash, seenNs: this.queueSeen[i]! });
      body += `${i === 0 ? '' : ','}{"jsonrpc":"2.0","id":${id},"method":"${method}","params":["${hash}"]}`;
    }
    body += ']';
    this.queueHashes.length = 0;
    this.queueSeen.length = 0;
    this.fetches += n;
    conn.ws.send(body);
  }

  private onReply(conn: Conn, msg: unknown, seenNs: number): void {
    if (typeof msg !== 'object' || msg === null) {
      this.bad('unexpected-frame', 'batch element is not an object');
      return;
    }
    const m = msg as { id?: unknown; result?: unknown; error?: unknown };
    const req = typeof m.id === 'number' ? this.requests.get(m.id) : undefined;
    const err = m.error;
    if (req === undefined) {
      if (err !== undefined && err !== null) this.bad('rpc-error', `id ${String(m.id)}: ${describeRpcError(err)}`);
      else this.bad('unexpected-frame', `reply to no request in flight (id ${String(m.id).slice(0, 40)})`);
      return;
    }
    this.requests.delete(m.id as number);
    const failed = err !== undefined && err !== null;
    if (failed) this.bad('rpc-error', `${KIND_METHOD[req.kind]}: ${describeRpcError(err)}`);
    switch (req.kind) {
      case FETCH_RAW:
      case FETCH_RPC:
        this.onFetched(req, failed ? err : null, m.result);
        return;
      case SUB_FULL:
      case SUB_HASHES:
      case SUB_HEADS:
        this.onSubscribed(conn, req.kind, failed ? err : null, m.result);
        return;
      case BACKFILL_POOL:
      case BACKFILL_BLOCK:
        this.onBackfill(conn, req.kind, failed ? err : null, m.result, seenNs);
        return;
    }
  }

  private onFetched(req: Pending, err: unknown, result: unknown): void {
    const { hash } = req;
    if (err !== null) {
      if (req.kind === FETCH_RAW) {
        if (this.rawSupported && isMethodMissing(err)) {
          this.rawSupported = false;
          this.setMode('hashes', 'eth_getRawTransactionByHash unsupported; fetching objects with eth_getTransactionByHash');
        }
        // Any raw failure gets one more try as an object; the hash stays in flight.
        this.requeue(hash, req.seenNs);
        return;
      }
      this.inflight.delete(hash);
      this.fetchErrors++;
      return;
    }
    this.inflight.delete(hash);
    if (result === null || result === undefined) {
      this.fetchMissing++;
      return;
    }
    if (req.kind === FETCH_RAW) {
      const raw = hexToBytes(result);
      if (raw === null) {
        this.bad('malformed-tx', `eth_getRawTransactionByHash ${hash}: not 0x-hex bytes`);
        return;
      }
      this.deliverFetched(hash, req.seenNs, raw, null);
    } else {
      if (typeof result !== 'object' || Array.isArray(result) || normHash((result as Record<string, unknown>).hash) !== hash) {
        this.bad('malformed-tx', `eth_getTransactionByHash ${hash}: not a tx object with that hash`);
        return;
      }
      this.deliverFetched(hash, req.seenNs, null, result as RpcTransaction);
    }
  }

  /** Sends one hash again by object (`eth_getTransactionByHash`), outside the normal batch. */
  private requeue(hash: string, seenNs: number): void {
    const conn = this.conn;
    if (conn === null || conn.dead) {
      this.inflight.delete(hash);
      return;
    }
    const id = this.nextId++;
    this.requests.set(id, { kind: FETCH_RPC, sentNs: monoNs(), hash, seenNs });
    this.fetches++;
    conn.ws.send(`{"jsonrpc":"2.0","id":${id},"method":"eth_getTransactionByHash","params":["${hash}"]}`);
  }

  private deliverFetched(hash: string, seenNs: number, raw: Uint8Array | null, rpc: RpcTransaction | null): void {
    // A fetch is started only for a hash not yet delivered, and the hash stays in flight until now.
    this.recent.add(hash, true);
    this.txs++;
    this.sink.tx(this.id, seenNs, hash, raw, rpc);
  }

  private onSubscribed(conn: Conn, kind: number, err: unknown, result: unknown): void {
    conn.subsOutstanding--;
    if (err !== null || typeof result !== 'string') {
      const why = err !== null ? describeRpcError(err) : `subscription id ${JSON.stringify(result)?.slice(0, 80)}`;
      if (kind === SUB_FULL && this.opts.mode === 'auto') {
        this.setMode('hashes', `the node refused full-object subscriptions (${why})`);
        this.subscribePending(conn);
      } else {
        this.fail(`subscribe ${kind === SUB_HEADS ? 'newHeads' : 'newPendingTransactions'} refused`, why);
      }
    } else if (kind === SUB_HEADS) {
      conn.headsSub = result;
      this.sink.status(this.id, { type: 'subscribed', stream: 'heads', subscription: result });
    } else {
      conn.pendingSub = result;
      // The connection delivers: the next loss starts its backoff from the beginning.
      this.failures = 0;
      this.sink.status(this.id, { type: 'subscribed', stream: kind === SUB_FULL ? 'pending-full' : 'pending-hashes', subscription: result });
      // Subscribed first, then backfill: the subscription covers everything after the snapshot.
      if (conn.reconnect && this.opts.backfillOnReconnect) this.request(conn, BACKFILL_POOL, 'txpool_content', '[]');
    }
    if (conn.subsOutstanding === 0 && conn.parked !== null) {
      const parked = conn.parked;
      conn.parked = null;
      for (const p of parked) this.onNotification(conn, { subscription: p.sub, result: p.result }, p.seenNs);
    }
  }

  private onBackfill(conn: Conn, kind: number, err: unknown, result: unknown, seenNs: number): void {
    const txs: unknown[] = [];
    if (kind === BACKFILL_POOL) {
      const pending = err === null && typeof result === 'object' && result !== null ? (result as { pending?: unknown }).pending : undefined;
      if (typeof pending !== 'object' || pending === null) {
        // No txpool namespace (or an odd reply): the pending block holds what the node would mine next.
        this.request(conn, BACKFILL_BLOCK, 'eth_getBlockByNumber', '["pending",true]');
        return;
      }
      for (const bySender of Object.values(pending as Record<string, unknown>)) {
        if (typeof bySender === 'object' && bySender !== null) for (const tx of Object.values(bySender as Record<string, unknown>)) txs.push(tx);
      }
    } else {
      const list = err === null && typeof result === 'object' && result !== null ? (result as { transactions?: unknown }).transactions : undefined;
      if (!Array.isArray(list)) {
        this.fail('backfill failed', `neither txpool_content nor eth_getBlockByNumber("pending", true) answered (${err !== null ? describeRpcError(err) : 'no transactions'})`);
        return;
      }
      txs.push(...list);
    }
    let found = 0;
    let duplicates = 0;
    let malformed = 0;
    for (const tx of txs) {
      let r: number;
      if (this.mode === 'full') {
        r = this.offerTx(tx, seenNs);
      } else {
        const hash = normHash(typeof tx === 'string' ? tx : typeof tx === 'object' && tx !== null ? (tx as Record<string, unknown>).hash : undefined);
        r = hash === null ? REJECTED : this.offerHash(hash, seenNs);
      }
      if (r === DELIVERED) found++;
      else if (r === DUPLICATE) duplicates++;
      else malformed++;
    }
    this.backfilled += found;
    if (malformed > 0) this.bad('malformed-tx', `${malformed} backfilled entries without a tx object with a 32-byte hash`);
    this.sink.status(this.id, { type: 'backfill', method: KIND_METHOD[kind]!, txs: found, duplicates });
  }

  private onHead(o: unknown, seenNs: number): void {
    const h = typeof o === 'object' && o !== null ? (o as Record<string, unknown>) : null;
    const hash = normHash(h?.hash);
    const parentHash = normHash(h?.parentHash);
    const number = quantityNumber(h?.number);
    const timestamp = quantityNumber(h?.timestamp);
    const gasLimit = quantityBig(h?.gasLimit);
    const gasUsed = quantityBig(h?.gasUsed);
    const miner = h?.miner;
    if (h === null || hash === null || parentHash === null || Number.isNaN(number) || Number.isNaN(timestamp) || gasLimit === null || gasUsed === null || typeof miner !== 'string' || !ADDRESS_RE.test(miner)) {
      this.bad('malformed-head', 'newHeads object missing hash, parentHash, number, timestamp, gasLimit, gasUsed or miner');
      return;
    }
    // Optional by fork: absent before London / Cancun, and the zero hash stands in for a missing mixHash.
    const baseFeePerGas = h.baseFeePerGas == null ? null : quantityBig(h.baseFeePerGas);
    const excessBlobGas = h.excessBlobGas == null ? null : quantityBig(h.excessBlobGas);
    const prevRandao = h.mixHash == null ? ZERO_HASH : normHash(h.mixHash);
    if ((h.baseFeePerGas != null && baseFeePerGas === null) || (h.excessBlobGas != null && excessBlobGas === null) || prevRandao === null) {
      this.bad('malformed-head', 'newHeads object with a malformed baseFeePerGas, excessBlobGas or mixHash');
      return;
    }
    const last = this.lastHead;
    if (last !== null && last.hash === hash) return; // the same head again (a node re-announcing it)
    let reorg = false;
    if (last !== null) {
      if (number === last.number + 1) reorg = parentHash !== last.hash;
      // The same or a lower height with another hash replaces blocks we announced.
      else if (number <= last.number) reorg = true;
      // A jump of more than one (heads missed, e.g. across a reconnect) cannot be judged without fetching the gap.
    }
    this.lastHead = { number, hash };
    this.blocks++;
    const block: BlockEvent = {
      number, hash, parentHash, timestamp, baseFeePerGas, gasLimit, gasUsed, miner: miner.toLowerCase(), prevRandao, excessBlobGas, reorg,
    };
    this.sink.block(this.id, seenNs, block);
  }

  // ---- reporting ----

  private setMode(mode: SourceMode, reason: string): void {
    this.mode = mode;
    this.sink.status(this.id, { type: 'mode', mode, reason });
  }

  private bad(code: BadFrameCode, detail: string): void {
    this.badFrames[code]++;
    this.lastError = `${code}: ${detail}`;
    this.sink.status(this.id, { type: 'bad-frame', code, detail });
  }

  private fail(shortMessage: string, details?: string, cause?: unknown): void {
    const error = new OrionError('ORION_ERR_INGEST', `${this.name} (${this.endpoint}): ${shortMessage}`, { details, cause });
    this.lastError = details ? `${shortMessage}: ${details}` : shortMessage;
    this.sink.status(this.id, { type: 'error', error });
  }
}

/** Method name per request kind, for error details and backfill events. */
const KIND_METHOD: Readonly<Record<number, string>> = {
  [SUB_FULL]: 'eth_subscribe newPendingTransactions (full)',
  [SUB_HASHES]: 'eth_subscribe newPendingTransactions',
  [SUB_HEADS]: 'eth_subscribe newHeads',
  [FETCH_RAW]: 'eth_getRawTransactionByHash',
  [FETCH_RPC]: 'eth_getTransactionByHash',
  [BACKFILL_POOL]: 'txpool_content',
  [BACKFILL_BLOCK]: 'eth_getBlockByNumber',
};
