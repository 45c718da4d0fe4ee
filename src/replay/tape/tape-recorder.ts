import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import { monoNs } from '../../runtime/clock.js';
import { CaptureWriter } from '../capture/capture-writer.js';
import { CaptureError, type MinedBlock, type MinedTx, type RpcErrorAnswer, redactUrl } from '../capture/format.js';
import { canonicalKey } from './canonical-key.js';
import { listenOnLoopback } from './listen.js';

/** Segment prefix of a replay tape (`tape-000000.orcap`). */
export const TAPE_PREFIX = 'tape';

/** Uniswap V2 pair `Sync(uint112,uint112)`. */
export const V2_SYNC_TOPIC = '0x1c411e9a96e071241c2f21f7726b17ae89e3cab4c78be50e062b03a9fffbbad1';
/** Uniswap V2 pair `Swap(address,uint256,uint256,uint256,uint256,address)`. */
export const V2_SWAP_TOPIC = '0xd78ad95fa46c994b6551d0da85fc275fe613ce37657fb8d5e3d130840159d822';
/** Uniswap V3 pool `Swap(address,address,int256,int256,uint160,uint128,int24)`. */
export const V3_SWAP_TOPIC = '0xc42079f94a6350d7e6235f29174924f928cc2ac818eb64fed8004e115fbcca67';
const POOL_TOPICS: ReadonlySet<string> = new Set([V2_SYNC_TOPIC, V2_SWAP_TOPIC, V3_SWAP_TOPIC]);

/** Methods forwarded but never recorded: they change the world rather than read it. */
const WRITE_METHODS: ReadonlySet<string> = new Set([
  'eth_sendRawTransaction',
  'eth_sendTransaction',
  'eth_sendBundle',
  'eth_sendPrivateTransaction',
  'eth_sendPrivateRawTransaction',
  'eth_cancelBundle',
  'eth_cancelPrivateTransaction',
  'eth_callBundle',
]);
/** Namespaces of node control (devnet mining and cheats, accounts, admin): not state reads either. */
const CONTROL_PREFIXES = ['anvil_', 'evm_', 'hardhat_', 'miner_', 'personal_', 'admin_'];

/** Whether a call's answer belongs on the tape: a read, not a send or node control. */
export function isRecordedMethod(method: string): boolean {
  if (WRITE_METHODS.has(method) || /send/i.test(method)) return false;
  for (const p of CONTROL_PREFIXES) if (method.startsWith(p)) return false;
  return true;
}

/** Position of the block argument of the reads whose answer a block number fixes. */
const BLOCK_ARG: Readonly<Record<string, number>> = {
  eth_getBalance: 1,
  eth_getTransactionCount: 1,
  eth_getCode: 1,
  eth_getStorageAt: 2,
  eth_call: 1,
  eth_getProof: 2,
  eth_getBlockByNumber: 0,
  eth_getBlockReceipts: 0,
};

const isQuantity = (v: unknown): boolean => typeof v === 'string' && /^0x[0-9a-fA-F]+$/.test(v);

/**
 * The tape key of a read whose answer cannot change once given: state at a numbered block, a
 * numbered block, logs of a numbered range or block hash, the chain id. Null for reads of `latest`,
 * `pending` and the like, which move.
 */
export function pinnedKey(method: string, params: unknown): string | null {
  const p = Array.isArray(params) ? params : [];
  if (method === 'eth_chainId') return canonicalKey(method, p);
  if (method === 'eth_getLogs') {
    const f = p[0];
    const fixed = typeof f === 'object' && f !== null && (typeof (f as { blockHash?: unknown }).blockHash === 'string' || (isQuantity((f as { fromBlock?: unknown }).fromBlock) && isQuantity((f as { toBlock?: unknown }).toBlock)));
    return fixed ? canonicalKey(method, p) : null;
  }
  const i = BLOCK_ARG[method];
  return i !== undefined && isQuantity(p[i]) ? canonicalKey(method, p) : null;
}

/** Options of {@link TapeRecorder}. */
export interface TapeRecorderOptions {
  /** HTTP JSON-RPC URL of the node the calls go to. */
  upstream: string;
  /** The tape directory (`<capture>/tape`); created if needed, must not hold a tape already. */
  dir: string;
  /** Chain id written in the tape's segment headers. */
  chainId: number;
  /** Segment size (see `CaptureWriterOptions`); default 64 MiB. */
  segmentBytes?: number;
  /** Retention (see `CaptureWriterOptions`); default 1 GiB, 0 = keep everything. */
  retainBytes?: number;
  /** Age rotation and retention (see `CaptureWriterOptions`); default 0: off. */
  segmentMs?: number;
  retainMs?: number;
  /** Monotonic ns that is ts 0; pass the ingest capture's, so tape and capture share a time line. Default now. */
  startNs?: number;
  /** Wall clock (unix ms) at ts 0; default now. */
  startedAt?: number;
  /** Give up on an upstream request after this long and answer 504; default 30 000 ms. */
  upstreamTimeoutMs?: number;
  /** Largest request body accepted; default 32 MiB. */
  maxRequestBytes?: number;
}

/** Counters of a {@link TapeRecorder}. */
export interface TapeRecorderStats {
  /** JSON-RPC calls received (each element of a batch counts; an unparseable body counts one). */
  calls: number;
  /** `state` records written. */
  recorded: number;
  /** Bytes appended to the tape, segment headers included. */
  bytes: number;
  /** Requests the upstream did not answer (refused, reset, timed out). */
  upstreamErrors: number;
  /** `mined` records written. */
  mined: number;
  /**
   * Read calls that were answered but could not be recorded: an HTTP status other than 200, a reply
   * that was not JSON or did not pair with the call, a record over the 16 MiB limit, or a write
   * error. Each is a read a replay will miss.
   */
  unrecorded: number;
  /** The last reason a call went unrecorded, or null. */
  lastUnrecorded: string | null;
  /** Repeated reads of a fixed block answered with their first answer, not asked again (nor recorded again). */
  pinnedHits: number;
}

interface RpcCall {
  jsonrpc?: unknown;
  id?: unknown;
  method?: unknown;
  params?: unknown;
}

interface RpcReply {
  id?: unknown;
  result?: unknown;
  error?: unknown;
}

/** Node-shaped HTTP failure for a request the upstream did not answer. */
class UpstreamFailure extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const lower = (v: unknown): string | null => (typeof v === 'string' ? v.toLowerCase() : null);

/** The JSON-RPC error of a reply, or null when it has none of the right shape. */
function errorAnswer(e: unknown): RpcErrorAnswer | null {
  if (!isObject(e) || typeof e.code !== 'number' || typeof e.message !== 'string') return null;
  return e.data === undefined ? { code: e.code, message: e.message } : { code: e.code, message: e.message, data: e.data };
}

/** Upstream URL without credentials (fetch refuses them) plus the Basic header they become. */
function splitCredentials(url: string): { url: string; authorization: string | null } {
  const u = new URL(url);
  if (!u.username && !u.password) return { url, authorization: null };
  const auth = `Basic ${Buffer.from(`${decodeURIComponent(u.username)}:${decodeURIComponent(u.password)}`).toString('base64')}`;
  u.username = '';
  u.password = '';
  return { url: u.toString(), authorization: auth };
}

/**
 * The recording half of the replay tape (docs/capture-format.md, "The replay tape"): an HTTP
 * JSON-RPC proxy on 127.0.0.1 that the engine's `rpcUrl` points at during a capture run. It forwards
 * POST bodies byte for byte to the node and its answer (status and body) back, and appends one
 * `state` record per read call — single or batch, paired by id — to a tape written with
 * {@link CaptureWriter} (prefix `tape`). A read a block number fixes ({@link pinnedKey}) is asked
 * once: a repeat is answered from the first answer, so the run sees what its replay will be served. Sends and node control are forwarded only. `recordMined`
 * adds what landed in a block; `writeMeta` the run's config. A {@link TapeServer} serves the tape back.
 *
 * @remarks Allocates per request (parses request and reply); runs on the main thread beside the
 * engine, never in a hot loop.
 */
export class TapeRecorder {
  /** The tape directory. */
  readonly dir: string;
  /** The upstream URL with credentials redacted, for logs. */
  readonly upstreamLabel: string;

  private readonly upstream: string;
  private readonly authorization: string | null;
  private readonly timeoutMs: number;
  private readonly maxRequestBytes: number;
  private readonly writer: CaptureWriter;
  private server: Server | null = null;
  private address: string | null = null;
  private readonly inflight = new Set<Promise<unknown>>();
  private closing: Promise<void> | null = null;
  /** True until the node says it lacks `eth_getBlockReceipts`; then receipts are read one by one. */
  private blockReceipts = true;
  private nextId = 1;
  private readonly counters = { calls: 0, recorded: 0, upstreamErrors: 0, mined: 0, unrecorded: 0 };
  private lastUnrecorded: string | null = null;
  /**
   * First answers of the reads a block number fixes ({@link pinnedKey}), by key; a promise while the
   * node is asked. A repeat is answered from here and not asked again: the capture run then sees
   * exactly what its replay will be served. A node can answer the same read differently: anvil,
   * mining the next block, answers reads of the head block from the state it is building.
   */
  private readonly pinned = new Map<string, Promise<{ result: unknown } | null>>();
  /** Calls answered from {@link pinned}. */
  private pinnedHits = 0;

  /** Opens the tape (creating `dir`); throws a CaptureError if `dir` already holds one. */
  constructor(options: TapeRecorderOptions) {
    if (typeof options.upstream !== 'string' || !/^https?:\/\//.test(options.upstream)) {
      throw new TypeError(`tape recorder: upstream must be an http(s) URL, got ${JSON.stringify(options.upstream)}`);
    }
    const { url, authorization } = splitCredentials(options.upstream);
    this.upstream = url;
    this.authorization = authorization;
    this.upstreamLabel = redactUrl(options.upstream);
    this.timeoutMs = options.upstreamTimeoutMs ?? 30_000;
    if (!(this.timeoutMs > 0)) throw new RangeError(`tape recorder: upstreamTimeoutMs must be > 0, got ${this.timeoutMs}`);
    this.maxRequestBytes = options.maxRequestBytes ?? 32 * 1024 * 1024;
    this.dir = options.dir;
    this.writer = new CaptureWriter(options.dir, {
      chainId: options.chainId,
      // The header names the node the answers came from (redacted by the writer); records carry no src.
      sources: [{ id: 0, name: 'rpc', url: options.upstream }],
      prefix: TAPE_PREFIX,
      ...(options.segmentBytes === undefined ? {} : { segmentBytes: options.segmentBytes }),
      ...(options.retainBytes === undefined ? {} : { retainBytes: options.retainBytes }),
      ...(options.segmentMs === undefined ? {} : { segmentMs: options.segmentMs }),
      ...(options.retainMs === undefined ? {} : { retainMs: options.retainMs }),
      ...(options.startNs === undefined ? {} : { startNs: options.startNs }),
      ...(options.startedAt === undefined ? {} : { startedAt: options.startedAt }),
    });
  }

  /** `http://127.0.0.1:<port>`, the URL to give the engine as `rpcUrl`; throws before {@link start}. */
  get url(): string {
    if (this.address === null) throw new Error('tape recorder: not started');
    return this.address;
  }

  /** Listens on 127.0.0.1 and a port the kernel picks. */
  async start(): Promise<void> {
    if (this.server !== null) return;
    if (this.closing !== null) throw new CaptureError('closed', this.dir, -1, 'the tape recorder is closed', { fatal: false });
    const server = createServer((req, res) => this.track(this.handle(req, res)));
    this.server = server;
    this.address = await listenOnLoopback(server);
  }

  /** Appends the run's `meta` record (engine config, versions: msgpack-able values). Call once, before the run. */
  writeMeta(meta: Record<string, unknown>): void {
    this.writer.writeMeta(monoNs(), meta);
  }

  /**
   * Reads block `blockNumber` with its transactions and receipts from the upstream and appends a
   * `mined` record. Returns the block, or null when the node does not have it (yet). Receipts come
   * from `eth_getBlockReceipts` by block hash (so they are the block's even across a reorg), or, if
   * the node lacks that method, from `eth_getTransactionReceipt` per transaction.
   */
  async recordMined(blockNumber: number): Promise<MinedBlock | null> {
    if (!Number.isSafeInteger(blockNumber) || blockNumber < 0) throw new RangeError(`tape recorder: blockNumber must be a non-negative integer, got ${blockNumber}`);
    // Tracked from read to write, so close() never closes the writer between the two.
    const p = (async () => {
      const block = await this.readMined(blockNumber);
      if (block === null) return null;
      this.writer.writeMined(monoNs(), block);
      this.counters.mined++;
      return block;
    })();
    this.track(p);
    return p;
  }

  /** Counters so far. @remarks Allocates. */
  stats(): TapeRecorderStats {
    return { ...this.counters, pinnedHits: this.pinnedHits, bytes: this.writer.stats().bytes, lastUnrecorded: this.lastUnrecorded };
  }

  /**
   * Stops listening, lets requests in flight finish (they are still recorded), then flushes, fsyncs
   * and closes the tape. Idempotent.
   */
  close(): Promise<void> {
    this.closing ??= (async () => {
      const server = this.server;
      if (server !== null) {
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeIdleConnections();
        await Promise.allSettled([...this.inflight]);
        server.closeAllConnections();
        await closed;
      }
      await Promise.allSettled([...this.inflight]);
      this.writer.close();
    })();
    return this.closing;
  }

  private track(p: Promise<unknown>): void {
    this.inflight.add(p);
    // Settled either way; a rejection is the caller's to handle (recordMined) or already answered (handle).
    p.then(
      () => this.inflight.delete(p),
      () => this.inflight.delete(p),
    );
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const atNs = monoNs();
    try {
      if (req.method !== 'POST') {
        res.writeHead(405, { 'content-type': 'application/json', allow: 'POST' });
        res.end('{"jsonrpc":"2.0","id":null,"error":{"code":-32600,"message":"only POST is supported"}}');
        return;
      }
      const body = await readBody(req, this.maxRequestBytes);
      if (body === null) {
        res.writeHead(413, { 'content-type': 'application/json' });
        res.end(`{"jsonrpc":"2.0","id":null,"error":{"code":-32600,"message":"request larger than ${this.maxRequestBytes} bytes"}}`);
        return;
      }
      let request: unknown;
      try {
        request = JSON.parse(body.toString('utf8'));
      } catch {
        request = undefined;
      }
      this.counters.calls += Array.isArray(request) ? request.length : 1;
      const list = Array.isArray(request) ? request : [request];
      // Each call's pinned key, once: null for a call a block number does not fix (or not a call).
      const keys = list.map((c) => (isObject(c) && typeof c.method === 'string' && c.id !== undefined ? pinnedKey(c.method, c.params) : null));
      if (keys.some((k) => k !== null)) {
        await this.handlePinned(atNs, request, list as RpcCall[], keys, res);
        return;
      }
      let status: number;
      let contentType: string;
      let reply: Buffer;
      try {
        ({ status, contentType, reply } = await this.forward(body, req.headers['content-type']));
      } catch (err) {
        this.counters.upstreamErrors++;
        const f = err instanceof UpstreamFailure ? err : new UpstreamFailure(502, String(err));
        res.writeHead(f.status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(failureAnswer(request, f.message)));
        return;
      }
      res.writeHead(status, { 'content-type': contentType });
      res.end(reply);
      if (request !== undefined) this.record(atNs, request, status, reply);
    } catch (err) {
      // A client that went away mid-request; nothing to answer.
      if (!res.headersSent) {
        res.writeHead(500, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ jsonrpc: '2.0', id: null, error: { code: -32603, message: `tape recorder: ${(err as Error)?.message ?? String(err)}` } }));
      } else {
        res.destroy();
      }
    }
  }

  /**
   * A request with reads a block number fixes: those already answered are answered the same way
   * again, the rest go to the node (one batch) and are recorded; the reply keeps the request's order.
   */
  private async handlePinned(atNs: number, request: unknown, calls: RpcCall[], keys: (string | null)[], res: ServerResponse): Promise<void> {
    const answers: ({ result: unknown } | null)[] = await Promise.all(keys.map((k) => (k !== null ? this.pinned.get(k) : undefined) ?? null));
    const ask: number[] = [];
    const settle = new Map<number, { key: string; resolve: (a: { result: unknown } | null) => void }>();
    for (let i = 0; i < calls.length; i++) {
      if (answers[i] !== null) {
        this.pinnedHits++;
        continue;
      }
      ask.push(i);
      const k = keys[i]!;
      if (k !== null && !this.pinned.has(k)) {
        let resolve!: (a: { result: unknown } | null) => void;
        this.pinned.set(k, new Promise((r) => (resolve = r)));
        settle.set(i, { key: k, resolve });
      }
    }
    const replies = new Map<number, unknown>();
    if (ask.length > 0) {
      const sub = Array.isArray(request) ? ask.map((i) => calls[i]) : calls[0];
      let out: { status: number; reply: Buffer } | null = null;
      try {
        out = await this.forward(Buffer.from(JSON.stringify(sub)), 'application/json');
      } catch (err) {
        this.counters.upstreamErrors++;
        for (const { key, resolve } of settle.values()) {
          this.pinned.delete(key);
          resolve(null);
        }
        const f = err instanceof UpstreamFailure ? err : new UpstreamFailure(502, String(err));
        res.writeHead(f.status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(failureAnswer(request, f.message)));
        return;
      }
      this.record(atNs, sub, out.status, out.reply);
      let parsed: unknown = null;
      try {
        parsed = JSON.parse(out.reply.toString('utf8'));
      } catch {
        parsed = null;
      }
      const got = Array.isArray(parsed) ? parsed : [parsed];
      const byId = new Map<string, unknown>();
      for (const r of got) if (isObject(r)) byId.set(JSON.stringify(r.id ?? null), r);
      for (const i of ask) {
        const r = byId.get(JSON.stringify(calls[i]!.id ?? null));
        replies.set(i, r ?? { jsonrpc: '2.0', id: calls[i]!.id ?? null, error: { code: -32603, message: `tape recorder: the node sent no answer for this call (HTTP ${out.status})` } });
        const s = settle.get(i);
        if (s === undefined) continue;
        // Only results are pinned: an error (a block the node does not have yet) may pass.
        if (out.status === 200 && isObject(r) && 'result' in r && r.error === undefined) s.resolve({ result: r.result });
        else {
          this.pinned.delete(s.key);
          s.resolve(null);
        }
      }
    }
    const body = calls.map((c, i) => replies.get(i) ?? { jsonrpc: '2.0', id: c.id ?? null, result: answers[i]!.result });
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(Array.isArray(request) ? body : body[0]));
  }

  /** POSTs `body` upstream unchanged; throws an {@link UpstreamFailure} when no answer came. */
  private async forward(body: Buffer, contentType: string | undefined): Promise<{ status: number; contentType: string; reply: Buffer }> {
    const headers: Record<string, string> = { 'content-type': contentType ?? 'application/json' };
    if (this.authorization !== null) headers.authorization = this.authorization;
    let res: Response;
    try {
      res = await fetch(this.upstream, { method: 'POST', headers, body, signal: AbortSignal.timeout(this.timeoutMs) });
      // fetch undoes any content-encoding, so the bytes passed on are plain and the header is dropped.
      const reply = Buffer.from(await res.arrayBuffer());
      return { status: res.status, contentType: res.headers.get('content-type') ?? 'application/json', reply };
    } catch (err) {
      const name = (err as { name?: unknown } | null)?.name;
      if (name === 'TimeoutError' || name === 'AbortError') throw new UpstreamFailure(504, `tape recorder: upstream ${this.upstreamLabel} did not answer within ${this.timeoutMs} ms`);
      const cause = (err as { cause?: { code?: unknown; message?: unknown } } | null)?.cause;
      const why = typeof cause?.code === 'string' ? cause.code : typeof cause?.message === 'string' ? cause.message : String((err as Error)?.message ?? err);
      throw new UpstreamFailure(502, `tape recorder: upstream ${this.upstreamLabel} unreachable (${why})`);
    }
  }

  /** Appends the `state` records of one answered request. Never throws: a recording problem must not fail the call. */
  private record(atNs: number, request: unknown, status: number, replyBytes: Buffer): void {
    const calls: RpcCall[] = (Array.isArray(request) ? request : [request]).filter((c): c is RpcCall => isObject(c) && typeof c.method === 'string' && isRecordedMethod(c.method) && c.id !== undefined);
    if (calls.length === 0) return;
    if (status !== 200) return this.unrecordable(calls.length, `HTTP ${status} from the node`);
    let reply: unknown;
    try {
      reply = JSON.parse(replyBytes.toString('utf8'));
    } catch {
      return this.unrecordable(calls.length, 'the node answered with something that is not JSON');
    }
    let pairs: [RpcCall, RpcReply | undefined][];
    if (!Array.isArray(request)) {
      pairs = [[calls[0]!, isObject(reply) ? reply : undefined]];
    } else if (Array.isArray(reply)) {
      // A batch answer may come in any order: pair by id, first unmatched reply for a repeated id.
      const byId = new Map<string, RpcReply[]>();
      for (const r of reply) {
        if (!isObject(r)) continue;
        const k = JSON.stringify(r.id ?? null);
        const list = byId.get(k);
        if (list) list.push(r);
        else byId.set(k, [r]);
      }
      pairs = calls.map((c) => [c, byId.get(JSON.stringify(c.id ?? null))?.shift()]);
    } else {
      return this.unrecordable(calls.length, 'the node answered a batch with a single object');
    }
    for (const [call, r] of pairs) {
      const method = call.method as string;
      if (r === undefined) {
        this.unrecordable(1, `no answer paired with ${method} id ${JSON.stringify(call.id)}`);
        continue;
      }
      const params = call.params === undefined ? [] : call.params;
      if (!Array.isArray(params)) {
        this.unrecordable(1, `${method} with by-name params`);
        continue;
      }
      let answer: { result: unknown } | { error: RpcErrorAnswer };
      if ('result' in r && r.error === undefined) answer = { result: r.result };
      else {
        const e = errorAnswer(r.error);
        if (e === null) {
          this.unrecordable(1, `${method}: an answer with neither result nor a JSON-RPC error`);
          continue;
        }
        answer = { error: e };
      }
      try {
        this.writer.writeState(atNs, method, params, answer);
        this.counters.recorded++;
      } catch (err) {
        this.unrecordable(1, `${method}: ${(err as Error)?.message ?? String(err)}`);
      }
    }
  }

  private unrecordable(n: number, why: string): void {
    this.counters.unrecorded += n;
    this.lastUnrecorded = why;
  }

  /** One or more calls to the upstream (not recorded); returns replies in call order. */
  private async upstreamBatch(calls: readonly (readonly [string, unknown[]])[]): Promise<RpcReply[]> {
    const first = this.nextId;
    this.nextId += calls.length;
    const body = Buffer.from(JSON.stringify(calls.map(([method, params], i) => ({ jsonrpc: '2.0', id: first + i, method, params }))));
    const { status, reply } = await this.forward(body, 'application/json');
    let parsed: unknown;
    try {
      parsed = JSON.parse(reply.toString('utf8'));
    } catch {
      throw new CaptureError('io', this.dir, -1, `upstream ${this.upstreamLabel} answered HTTP ${status} with something that is not JSON`, { fatal: false });
    }
    if (!Array.isArray(parsed)) {
      const e = isObject(parsed) ? errorAnswer(parsed.error) : null;
      throw new CaptureError('io', this.dir, -1, `upstream ${this.upstreamLabel} answered a batch with HTTP ${status}${e ? `: ${e.message}` : ''}`, { fatal: false });
    }
    const out = new Array<RpcReply>(calls.length).fill({});
    for (const r of parsed) {
      if (isObject(r) && typeof r.id === 'number' && r.id >= first && r.id < first + calls.length) out[r.id - first] = r;
    }
    return out;
  }

  private async readMined(n: number): Promise<MinedBlock | null> {
    const tag = `0x${n.toString(16)}`;
    const [b] = await this.upstreamBatch([['eth_getBlockByNumber', [tag, true]]]);
    if (b!.error !== undefined) throw this.minedError(n, 'eth_getBlockByNumber', b!.error);
    const block = b!.result;
    if (!isObject(block)) return null;
    const hash = lower(block.hash)!;
    const rawTxs = Array.isArray(block.transactions) ? (block.transactions as unknown[]).filter(isObject) : [];
    const receipts = await this.readReceipts(n, hash, rawTxs.map((t) => lower(t.hash) ?? ''));
    const txs: MinedTx[] = rawTxs.map((t) => {
      const txHash = lower(t.hash) ?? '';
      const rc = receipts.get(txHash);
      return {
        hash: txHash,
        from: lower(t.from) ?? '',
        to: lower(t.to),
        nonce: Number(t.nonce),
        status: rc === undefined ? null : rc.status,
        touched: rc === undefined ? [] : rc.touched,
      };
    });
    return {
      number: Number(block.number),
      hash,
      parentHash: lower(block.parentHash) ?? '',
      timestamp: Number(block.timestamp),
      baseFeePerGas: lower(block.baseFeePerGas),
      txs,
    };
  }

  /** Status and touched pools per tx hash, from receipts that belong to block `blockHash`. */
  private async readReceipts(n: number, blockHash: string, txHashes: string[]): Promise<Map<string, { status: 0 | 1 | null; touched: string[] }>> {
    const out = new Map<string, { status: 0 | 1 | null; touched: string[] }>();
    if (txHashes.length === 0) return out;
    let receipts: unknown[] | null = null;
    if (this.blockReceipts) {
      const [r] = await this.upstreamBatch([['eth_getBlockReceipts', [blockHash]]]);
      const e = errorAnswer(r!.error);
      if (e !== null) {
        if (!isMethodMissing(e)) throw this.minedError(n, 'eth_getBlockReceipts', e);
        this.blockReceipts = false;
      } else if (Array.isArray(r!.result)) {
        receipts = r!.result;
      }
    }
    if (receipts === null) {
      receipts = [];
      for (let i = 0; i < txHashes.length; i += 100) {
        const chunk = txHashes.slice(i, i + 100);
        const replies = await this.upstreamBatch(chunk.map((h) => ['eth_getTransactionReceipt', [h]] as const));
        for (const r of replies) if (r.result != null) receipts.push(r.result);
      }
    }
    for (const rc of receipts) {
      // A receipt of another block (the tx was reorged elsewhere meanwhile) says nothing about this one.
      if (!isObject(rc) || lower(rc.blockHash) !== blockHash) continue;
      const touched: string[] = [];
      for (const log of Array.isArray(rc.logs) ? rc.logs : []) {
        if (!isObject(log) || !Array.isArray(log.topics)) continue;
        const topic0 = lower(log.topics[0]);
        const addr = lower(log.address);
        if (topic0 !== null && addr !== null && POOL_TOPICS.has(topic0) && !touched.includes(addr)) touched.push(addr);
      }
      const status = rc.status === undefined || rc.status === null ? null : Number(rc.status) === 1 ? 1 : 0;
      out.set(lower(rc.transactionHash) ?? '', { status, touched });
    }
    return out;
  }

  private minedError(n: number, method: string, error: unknown): CaptureError {
    const e = errorAnswer(error);
    return new CaptureError('io', this.dir, -1, `cannot record mined block ${n}: ${method} failed: ${e ? `${e.message} (${e.code})` : JSON.stringify(error)}`, { fatal: false });
  }
}

/** Whether a JSON-RPC error says the method does not exist on this node. */
function isMethodMissing(e: RpcErrorAnswer): boolean {
  return e.code === -32601 || /method.*(not (found|supported|available|exist)|does not exist|unsupported)|unknown method|not implemented/i.test(e.message);
}

/** What a node-less proxy answers: a JSON-RPC error per call of the request, ids kept. */
function failureAnswer(request: unknown, message: string): unknown {
  const one = (c: unknown) => ({ jsonrpc: '2.0', id: isObject(c) && c.id !== undefined ? c.id : null, error: { code: -32000, message } });
  return Array.isArray(request) && request.length > 0 ? request.map(one) : one(request);
}

/** The request body, or null when it passes `limit` bytes. */
async function readBody(req: IncomingMessage, limit: number): Promise<Buffer | null> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) return null;
    chunks.push(chunk as Buffer);
  }
  return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size);
}
