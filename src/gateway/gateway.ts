/**
 * The searcher gateway, on the main thread with uWebSockets.js: the `/v1/stream` websocket
 * (opportunities, txs, blocks, stats), `/health`, `/metrics`, a status page, and an admin restart.
 * It is fed by the engine's sinks, which take records off the rings with `Atomics.waitAsync`, so
 * the event loop serves sockets between batches. docs/gateway.md is the user's reference.
 */
import { pack } from 'msgpackr';
import * as uWS from 'uWebSockets.js';
import { nativeBindingError, recoveryBackend } from '../actors/decoder/tx/sender.js';
import type { Opportunity } from '../actors/scorer/opportunity.js';
import { type SubmitterState, readControl, requestCancel, requestControl } from '../actors/submitter/control.js';
import { Ledger } from '../actors/submitter/ledger.js';
import { availableRoutes, chooseRoutes } from '../actors/submitter/route-policy.js';
import type { Submission } from '../actors/submitter/submission.js';
import { DEFAULT_SUBMITTER_CONFIG, type SubmitterConfig } from '../actors/submitter/submitter-config.js';
import { type Engine, type EngineStats, stateRpcUrl } from '../engine.js';
import type { Message } from '../messages/envelope.js';
import { toJson, toJsonValue } from '../messages/json.js';
import { type BlockEvent, type DecodedTx, Kind } from '../messages/schema.js';
import type { Logger } from '../runtime/log.js';
import { KeyStore, type Principal, presentedKey, roleAtLeast } from './auth.js';
import type { GatewayConfig, Role } from './gateway-config.js';
import { EXPOSITION_CONTENT_TYPE, type GatewayFigures, engineExposition } from './prometheus.js';
import { type ClientOp, type ErrorCode, type OpportunityFilter, ProtocolError, TOPICS, type Topic, matches, parseClientOp } from './protocol.js';
import { ProtectRpc } from './protect.js';
import { statusPage } from './status-page.js';

type Encoding = 'json' | 'msgpack';

/** Per-socket state (uWS user data). */
interface Client {
  id: number;
  principal: Principal;
  encoding: Encoding;
  /** Subscribed topics; an opportunities subscription with a filter is served from JS, the rest by uWS topics. */
  subs: Map<Topic, OpportunityFilter | null>;
  /** Times (ms) of recent error frames, for the repeat-offender rule. */
  errors: number[];
  open: boolean;
}

/** The `/health` body. */
export interface Health {
  status: 'ok' | 'unhealthy';
  /** Why the status is not ok. */
  problems: string[];
  actors: Record<string, { status: string; restarts: number }>;
  node: { sources: Record<string, 'connected' | 'disconnected' | 'unknown'>; headBlock: number | null; headAgeMs: number | null };
  secp256k1: { native: boolean; error: string | null };
  /** Whether the submitter sends (a key is loaded) or runs dry, its pause and its route breakers. */
  submitter: SubmitterState | null;
  clients: number;
  uptimeSec: number;
}

/** A token bucket per API key. */
interface Bucket {
  tokens: number;
  at: number;
}

/** Options of {@link Gateway}. */
export interface GatewayOptions {
  config: GatewayConfig;
  log: Logger;
  /** The engine to serve; null for a standalone gateway (benchmarks publish into it directly). */
  engine?: Engine | null;
  /** Submitter config for `/mev/route` and `/mev/stats` (its ledger) when there is no engine; default the engine's. */
  submitter?: SubmitterConfig;
}

/** Where the gateway listens. */
export interface GatewayAddress {
  host: string;
  port: number;
  /** `http://host:port` */
  url: string;
  /** `ws://host:port/v1/stream` */
  streamUrl: string;
}

/**
 * The gateway. `listen()` binds; `close()` stops accepting, tells clients, lets them drain for
 * `shutdownGraceMs`, and closes. Every bad input gets an error frame and a counter; nothing a
 * client does can throw out of a handler or hold the engine back.
 */
export class Gateway {
  readonly config: GatewayConfig;
  private readonly log: Logger;
  private readonly engine: Engine | null;
  private readonly submitterConfig: SubmitterConfig;
  private readonly keys: KeyStore;
  private readonly app: uWS.TemplatedApp;
  private listenSocket: uWS.us_listen_socket | null = null;
  private address: GatewayAddress | null = null;
  private readonly sockets = new Set<uWS.WebSocket<Client>>();
  /** Sockets with a filtered opportunities subscription. */
  private readonly filtered = new Set<uWS.WebSocket<Client>>();
  private readonly buckets = new Map<string, Bucket>();
  private nextClientId = 1;
  private closing = false;
  private statsTimer: NodeJS.Timeout | null = null;
  private readonly recent: unknown[] = [];
  private head: { number: number; at: number } | null = null;
  private protect: ProtectRpc | null = null;
  /** The ledger, read for `/mev/stats` (the submitter's thread writes it). */
  private ledger: Ledger | null = null;
  private readonly counts = {
    framesSent: { opportunities: 0, txs: 0, blocks: 0, stats: 0, submissions: 0, replies: 0 } as Record<string, number>,
    framesDropped: 0,
    backpressureCuts: 0,
    errorFrames: {} as Record<string, number>,
    refused: {} as Record<string, number>,
  };
  /** Opportunities that left the pipeline, `kind/verification` → count. */
  private readonly oppsOut: Record<string, number> = {};

  constructor(opts: GatewayOptions) {
    this.config = opts.config;
    this.log = opts.log;
    this.engine = opts.engine ?? null;
    this.submitterConfig = opts.submitter ?? this.engine?.config.submitter ?? DEFAULT_SUBMITTER_CONFIG;
    this.keys = new KeyStore(opts.config.apiKeys);
    const c = this.config;
    this.app = uWS.App();
    this.app.ws<Client>('/v1/stream', {
      // Frames past maxFrameBytes get an error frame; uWS itself closes (1009) only far beyond it.
      maxPayloadLength: c.maxFrameBytes + 64 * 1024,
      maxBackpressure: c.maxBackpressureBytes,
      closeOnBackpressureLimit: true,
      idleTimeout: c.idleTimeoutSec,
      sendPingsAutomatically: true,
      upgrade: (res, req, context) => this.upgrade(res, req, context),
      open: (ws) => this.onOpen(ws),
      message: (ws, message, isBinary) => this.onMessage(ws, message, isBinary),
      dropped: (ws) => this.onDropped(ws),
      close: (ws, code) => this.onClose(ws, code),
    });
    this.app.get('/health', (res) => this.httpHealth(res));
    this.app.get('/metrics', (res, req) => this.httpAuthed(res, req, 'operator', () => this.sendText(res, '200 OK', EXPOSITION_CONTENT_TYPE, this.metricsText())));
    this.app.get('/v1/status', (res, req) => this.httpAuthed(res, req, 'viewer', () => this.sendText(res, '200 OK', 'application/json', JSON.stringify(this.status()))));
    this.app.get('/', (res, req) => {
      const token = new URLSearchParams(req.getQuery() ?? '').get('token') ?? '';
      this.httpAuthed(res, req, 'viewer', () => this.sendText(res, '200 OK', 'text/html; charset=utf-8', statusPage(this.status(), token)));
    });
    this.app.get('/mev/stats', (res, req) => this.httpAuthed(res, req, 'operator', () => this.mevStats(res)));
    this.app.get('/mev/route', (res, req) => {
      const q = new URLSearchParams(req.getQuery() ?? '');
      this.httpAuthed(res, req, 'viewer', () => this.mevRoute(res, q));
    });
    this.app.post('/rpc', (res, req) => this.httpAuthed(res, req, 'operator', () => this.protectRpc(res)));
    this.app.post('/v1/admin/submitter', (res, req) => {
      const q = new URLSearchParams(req.getQuery() ?? '');
      const op = q.get('op');
      const id = q.get('id');
      this.httpAuthed(res, req, 'operator', () => this.submitterOp(res, op, id));
    });
    this.app.post('/v1/admin/restart', (res, req) => {
      const actor = new URLSearchParams(req.getQuery() ?? '').get('actor');
      this.httpAuthed(res, req, 'admin', () => this.restart(res, actor));
    });
    this.app.any('/*', (res, req) => this.sendJson(res, '404 Not Found', { error: 'not-found', message: `no route ${req.getMethod().toUpperCase()} ${req.getUrl()}; routes: GET /v1/stream (websocket), GET /health, GET /metrics, GET /v1/status, GET /, GET /mev/stats, GET /mev/route?sizeUsd=&profitUsd=, POST /rpc, POST /v1/admin/submitter?op=pause|resume|reset|cancel, POST /v1/admin/restart?actor=NAME` }));
    if (this.engine !== null) {
      const url = stateRpcUrl(this.engine.config, this.engine.config.submitter.rpcUrl);
      if (url !== null && this.engine.config.pipeline === 'live') this.protect = new ProtectRpc(this.engine.config, url, this.log);
      this.attach(this.engine);
    }
  }

  /** Binds `config.host:config.port` (0: a free port). */
  listen(): Promise<GatewayAddress> {
    const { host, port } = this.config;
    return new Promise((resolve, reject) => {
      this.app.listen(host, port, (ls) => {
        if (!ls) {
          reject(new Error(`gateway: cannot listen on ${host}:${port} (in use or not permitted)`));
          return;
        }
        this.listenSocket = ls;
        const bound = uWS.us_socket_local_port(ls);
        const h = host.includes(':') ? `[${host}]` : host;
        this.address = { host, port: bound, url: `http://${h}:${bound}`, streamUrl: `ws://${h}:${bound}/v1/stream` };
        this.log.info('gateway listening', { url: this.address.url, keys: this.keys.size });
        if (this.statsTimer === null && this.engine !== null) {
          this.statsTimer = setInterval(() => this.publishStats(), this.config.statsIntervalMs);
          this.statsTimer.unref();
        }
        resolve(this.address);
      });
    });
  }

  /** The bound address (after {@link listen}). */
  where(): GatewayAddress | null {
    return this.address;
  }

  // ---- feeding -------------------------------------------------------------------------------

  private attach(engine: Engine): void {
    engine.onOutput((m: Message) => {
      if (m.kind === Kind.Opportunity) this.publishOpportunity(m.data as Opportunity);
      else if (m.kind === Kind.BlockEvent) this.publishBlock(m.data as BlockEvent);
      else if (m.kind === Kind.Submission) this.publishSubmission(m.data as Submission);
    });
    engine.onTx((m: Message) => this.publishTx(m.data as DecodedTx));
  }

  /** Sends an opportunity to every client whose subscription it matches. */
  publishOpportunity(opp: Opportunity): void {
    const key = `${opp.kind}/${opp.verification}`;
    this.oppsOut[key] = (this.oppsOut[key] ?? 0) + 1;
    let frames: Frames | null = null;
    const shown = matches(opp, null);
    if (this.config.recentOpportunities > 0 && shown) {
      frames = new Frames('opportunity', opp);
      // A verification outcome replaces the pending record it follows.
      const at = opp.revision > 0 ? this.recent.findIndex((r) => (r as { id: string }).id === opp.id) : -1;
      if (at >= 0) this.recent[at] = frames.data();
      else {
        this.recent.push(frames.data());
        if (this.recent.length > this.config.recentOpportunities) this.recent.shift();
      }
    }
    // Once closing, clients have had their shutdown frame: nothing follows it.
    if (this.sockets.size === 0 || this.closing) return;
    frames ??= new Frames('opportunity', opp);
    // Unfiltered subscribers (the default filter) are served by uWS's own fan-out.
    if (shown) this.publishTopic('opportunities', frames);
    for (const ws of this.filtered) {
      const f = ws.getUserData().subs.get('opportunities');
      if (f !== undefined && f !== null && matches(opp, f)) this.send(ws, frames, 'opportunities');
    }
  }

  /** Sends a decoded pending transaction to `txs` subscribers. */
  publishTx(tx: DecodedTx): void {
    if (this.sockets.size === 0 || this.closing) return;
    this.publishTopic('txs', new Frames('tx', tx));
  }

  /** Sends a submission's state change to `submissions` subscribers (role operator). */
  publishSubmission(s: Submission): void {
    if (this.sockets.size === 0 || this.closing) return;
    this.publishTopic('submissions', new Frames('submission', s));
  }

  /** Sends a block event to `blocks` subscribers and notes the head for `/health`. */
  publishBlock(b: BlockEvent): void {
    if (this.head === null || b.number >= this.head.number || b.reorg) this.head = { number: b.number, at: Date.now() };
    this.protect?.onBlock(b.number);
    if (this.sockets.size === 0 || this.closing) return;
    this.publishTopic('blocks', new Frames('block', b));
  }

  private publishStats(): void {
    if (this.sockets.size === 0 || this.engine === null) return;
    if (this.app.numSubscribers('stats/json') + this.app.numSubscribers('stats/msgpack') === 0) return;
    this.publishTopic('stats', new Frames('stats', this.status().stages));
  }

  private publishTopic(topic: Topic, frames: Frames): void {
    for (const enc of ['json', 'msgpack'] as const) {
      const t = `${topic}/${enc}`;
      const n = this.app.numSubscribers(t);
      if (n === 0) continue;
      this.app.publish(t, frames.get(enc), enc === 'msgpack');
      this.counts.framesSent[topic]! += n;
    }
  }

  private send(ws: uWS.WebSocket<Client>, frames: Frames, topic: string): void {
    const c = ws.getUserData();
    if (!c.open) return;
    ws.send(frames.get(c.encoding), c.encoding === 'msgpack');
    this.counts.framesSent[topic] = (this.counts.framesSent[topic] ?? 0) + 1;
  }

  // ---- websocket -----------------------------------------------------------------------------

  private upgrade(res: uWS.HttpResponse, req: uWS.HttpRequest, context: uWS.us_socket_context_t): void {
    const query = req.getQuery() ?? '';
    const secKey = req.getHeader('sec-websocket-key');
    const protocol = req.getHeader('sec-websocket-protocol');
    const extensions = req.getHeader('sec-websocket-extensions');
    if (this.closing) return this.sendJson(res, '503 Service Unavailable', { error: 'shutting-down', message: 'the gateway is shutting down' });
    const principal = this.authenticate(res, req.getHeader('authorization'), query, 'viewer');
    if (principal === null) return;
    const encoding = new URLSearchParams(query).get('encoding') ?? 'json';
    if (encoding !== 'json' && encoding !== 'msgpack') {
      return this.sendJson(res, '400 Bad Request', { error: 'bad-encoding', message: `encoding must be json or msgpack, got ${JSON.stringify(encoding)}` });
    }
    const client: Client = { id: this.nextClientId++, principal, encoding, subs: new Map(), errors: [], open: false };
    res.upgrade(client, secKey, protocol, extensions, context);
  }

  private onOpen(ws: uWS.WebSocket<Client>): void {
    const c = ws.getUserData();
    c.open = true;
    this.sockets.add(ws);
    this.reply(ws, { type: 'hello', client: c.id, role: c.principal.role, encoding: c.encoding, topics: Object.keys(TOPICS), maxFrameBytes: this.config.maxFrameBytes });
  }

  private onMessage(ws: uWS.WebSocket<Client>, message: ArrayBuffer, _isBinary: boolean): void {
    const c = ws.getUserData();
    if (!c.open) return;
    if (message.byteLength > this.config.maxFrameBytes) {
      return this.error(ws, new ProtocolError('frame-too-large', `frame of ${message.byteLength} bytes exceeds the ${this.config.maxFrameBytes}-byte limit`));
    }
    if (!this.take(c.principal.name)) {
      return this.error(ws, new ProtocolError('rate-limited', `more than ${this.config.opsPerSecond} ops/s (burst ${this.config.opsBurst}) for key ${c.principal.name}; slow down`));
    }
    let op: ClientOp;
    try {
      op = parseClientOp(Buffer.from(message).toString('utf8'));
    } catch (err) {
      if (err instanceof ProtocolError) return this.error(ws, err);
      throw err;
    }
    switch (op.op) {
      case 'ping':
        return this.reply(ws, { type: 'pong', id: op.id });
      case 'subscribe': {
        for (const t of op.topics) {
          if (!roleAtLeast(c.principal.role, TOPICS[t])) return this.error(ws, new ProtocolError('forbidden', `topic ${t} needs role ${TOPICS[t]}; key ${c.principal.name} is ${c.principal.role}`, op.id));
        }
        for (const t of op.topics) this.subscribe(ws, t, t === 'opportunities' ? op.filter : null);
        return this.reply(ws, { type: 'subscribed', id: op.id, topics: [...c.subs.keys()], filter: op.rawFilter });
      }
      case 'unsubscribe': {
        for (const t of op.topics ?? [...c.subs.keys()]) this.unsubscribe(ws, t);
        return this.reply(ws, { type: 'unsubscribed', id: op.id, topics: [...c.subs.keys()] });
      }
    }
  }

  private subscribe(ws: uWS.WebSocket<Client>, topic: Topic, filter: OpportunityFilter | null): void {
    const c = ws.getUserData();
    this.unsubscribe(ws, topic);
    c.subs.set(topic, filter);
    if (filter === null) ws.subscribe(`${topic}/${c.encoding}`);
    else this.filtered.add(ws);
  }

  private unsubscribe(ws: uWS.WebSocket<Client>, topic: Topic): void {
    const c = ws.getUserData();
    if (!c.subs.has(topic)) return;
    if (c.subs.get(topic) === null) ws.unsubscribe(`${topic}/${c.encoding}`);
    c.subs.delete(topic);
    if (topic === 'opportunities') this.filtered.delete(ws);
  }

  /** Token bucket per key: true when an op may proceed. */
  private take(key: string): boolean {
    const now = performance.now();
    let b = this.buckets.get(key);
    if (b === undefined) this.buckets.set(key, (b = { tokens: this.config.opsBurst, at: now }));
    b.tokens = Math.min(this.config.opsBurst, b.tokens + ((now - b.at) / 1000) * this.config.opsPerSecond);
    b.at = now;
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    return true;
  }

  /** Sends an error frame; a socket with `maxErrors` of them within `errorWindowMs` is closed with the reason. */
  private error(ws: uWS.WebSocket<Client>, err: ProtocolError): void {
    const c = ws.getUserData();
    const code: ErrorCode = err.code;
    this.counts.errorFrames[code] = (this.counts.errorFrames[code] ?? 0) + 1;
    this.reply(ws, err.id === undefined ? { type: 'error', code, message: err.message } : { type: 'error', id: err.id, code, message: err.message });
    const now = Date.now();
    c.errors.push(now);
    while (c.errors.length > 0 && now - c.errors[0]! > this.config.errorWindowMs) c.errors.shift();
    if (c.errors.length >= this.config.maxErrors && c.open) {
      c.open = false;
      this.counts.errorFrames.closed = (this.counts.errorFrames.closed ?? 0) + 1;
      this.log.warn('closing a websocket client after repeated errors', { client: c.id, key: c.principal.name, last: code });
      ws.end(1008, `too many errors (${c.errors.length} in ${this.config.errorWindowMs} ms; last: ${code})`);
    }
  }

  private reply(ws: uWS.WebSocket<Client>, body: Record<string, unknown>): void {
    const c = ws.getUserData();
    if (!c.open) return;
    if (body.id === undefined) delete body.id;
    ws.send(c.encoding === 'msgpack' ? pack(body) : JSON.stringify(body), c.encoding === 'msgpack');
    this.counts.framesSent.replies!++;
  }

  private onDropped(ws: uWS.WebSocket<Client>): void {
    this.counts.framesDropped++;
    const c = ws.getUserData();
    if (c.open) {
      // closeOnBackpressureLimit closes it right after this: count the cut once.
      c.open = false;
      this.counts.backpressureCuts++;
      this.log.warn('websocket client cut at the backpressure limit', { client: c.id, key: c.principal.name, maxBackpressureBytes: this.config.maxBackpressureBytes });
    }
  }

  private onClose(ws: uWS.WebSocket<Client>, _code: number): void {
    const c = ws.getUserData();
    c.open = false;
    this.sockets.delete(ws);
    this.filtered.delete(ws);
  }

  // ---- HTTP ----------------------------------------------------------------------------------

  /** Authenticates a request; on failure answers 401/403 and returns null. */
  private authenticate(res: uWS.HttpResponse, authorization: string, query: string, needed: Role): Principal | null {
    const key = presentedKey(authorization, query);
    const p = this.keys.verify(key);
    if (p === null) {
      const reason = key === null ? 'missing-key' : 'bad-key';
      this.counts.refused[reason] = (this.counts.refused[reason] ?? 0) + 1;
      res.cork(() => {
        res
          .writeStatus('401 Unauthorized')
          .writeHeader('WWW-Authenticate', 'Bearer realm="orion"')
          .writeHeader('Content-Type', 'application/json')
          .end(JSON.stringify({ error: reason, message: key === null ? 'an API key is required: Authorization: Bearer <key>, or ?token=<key>' : 'the API key is not valid' }));
      });
      return null;
    }
    if (!roleAtLeast(p.role, needed)) {
      this.counts.refused.role = (this.counts.refused.role ?? 0) + 1;
      this.sendJson(res, '403 Forbidden', { error: 'forbidden', message: `this needs role ${needed}; key ${p.name} is ${p.role}` });
      return null;
    }
    return p;
  }

  private httpAuthed(res: uWS.HttpResponse, req: uWS.HttpRequest, needed: Role, then: () => void): void {
    if (this.authenticate(res, req.getHeader('authorization'), req.getQuery() ?? '', needed) !== null) then();
  }

  private sendText(res: uWS.HttpResponse, status: string, type: string, body: string): void {
    res.cork(() => {
      res.writeStatus(status).writeHeader('Content-Type', type).writeHeader('Cache-Control', 'no-store').end(body);
    });
  }

  private sendJson(res: uWS.HttpResponse, status: string, body: unknown): void {
    this.sendText(res, status, 'application/json', JSON.stringify(body));
  }

  private httpHealth(res: uWS.HttpResponse): void {
    const h = this.health();
    this.sendJson(res, h.status === 'ok' ? '200 OK' : '503 Service Unavailable', h);
  }

  private restart(res: uWS.HttpResponse, actor: string | null): void {
    if (this.engine === null) return this.sendJson(res, '409 Conflict', { error: 'no-engine', message: 'this gateway serves no engine' });
    const names = Object.keys(this.engine.stats().stages);
    if (actor === null || !names.includes(actor)) return this.sendJson(res, '400 Bad Request', { error: 'bad-actor', message: `actor must be one of ${names.join(', ')}` });
    let aborted = false;
    res.onAborted(() => {
      aborted = true;
    });
    this.log.warn('actor restart requested over the gateway', { actor });
    this.engine.supervisor.restartActor(actor).then(
      () => {
        if (!aborted) this.sendJson(res, '202 Accepted', { restarting: actor });
      },
      (err: unknown) => {
        if (!aborted) this.sendJson(res, '500 Internal Server Error', { error: 'restart-failed', message: (err as Error).message });
      },
    );
  }

  /** `GET /mev/stats`: daily and weekly savings, losses, net, trades by route, inclusion rate, from the ledger. */
  private mevStats(res: uWS.HttpResponse): void {
    const path = this.submitterConfig.ledgerPath;
    try {
      this.ledger ??= Ledger.open(path);
      this.ledger.refresh();
      this.sendText(res, '200 OK', 'application/json', toJson({ ledger: path, ...this.ledger.stats(Date.now()) }));
    } catch (err) {
      this.sendJson(res, '500 Internal Server Error', { error: 'ledger', message: (err as Error).message });
    }
  }

  /** `GET /mev/route?sizeUsd=&profitUsd=`: the route policy's choice for such a trade. */
  private mevRoute(res: uWS.HttpResponse, q: URLSearchParams): void {
    const num = (k: string): number | null => {
      const v = q.get(k);
      if (v === null || v === '') return 0;
      const n = Number(v);
      return Number.isFinite(n) && n >= 0 ? n : null;
    };
    const sizeUsd = num('sizeUsd');
    const profitUsd = num('profitUsd');
    if (sizeUsd === null || profitUsd === null || !q.has('sizeUsd')) {
      return this.sendJson(res, '400 Bad Request', { error: 'bad-params', message: 'sizeUsd (required) and profitUsd must be non-negative numbers of USD, e.g. /mev/route?sizeUsd=25000&profitUsd=40' });
    }
    const c = this.submitterConfig;
    const choice = chooseRoutes(c, sizeUsd, profitUsd, availableRoutes(c));
    this.sendJson(res, '200 OK', { sizeUsd, profitUsd, route: choice.chain[0] ?? null, chain: choice.chain, reason: choice.chain.length > 0 ? choice.reason : `${choice.reason}; but no route is configured (config.submitter)`, expectedMevLossUsd: choice.expectedMevLossUsd, publicExposureUsd: choice.publicExposureUsd, strategy: c.strategy });
  }

  /** `POST /rpc`: the protect RPC. The body is read in full (at most 256 KiB) before it is handled. */
  private protectRpc(res: uWS.HttpResponse): void {
    if (this.protect === null) return this.sendJson(res, '409 Conflict', { error: 'no-node', message: 'the protect RPC needs a live engine with a node' });
    const protect = this.protect;
    let aborted = false;
    res.onAborted(() => {
      aborted = true;
    });
    const chunks: Buffer[] = [];
    let size = 0;
    res.onData((chunk, isLast) => {
      if (aborted) return;
      size += chunk.byteLength;
      if (size > 256 * 1024) {
        aborted = true;
        this.sendJson(res, '413 Payload Too Large', { error: 'too-large', message: 'a JSON-RPC body is at most 256 KiB' });
        return;
      }
      chunks.push(Buffer.from(chunk.slice(0)));
      if (!isLast) return;
      protect.handle(Buffer.concat(chunks).toString('utf8')).then(
        (body) => {
          if (!aborted) this.sendText(res, '200 OK', 'application/json', body);
        },
        (err: unknown) => {
          if (!aborted) this.sendJson(res, '500 Internal Server Error', { error: 'internal', message: (err as Error).message });
        },
      );
    });
  }

  /** `POST /v1/admin/submitter?op=pause|resume|reset`, or `op=cancel&id=<submission id>`. */
  private submitterOp(res: uWS.HttpResponse, op: string | null, id: string | null): void {
    if (this.engine === null) return this.sendJson(res, '409 Conflict', { error: 'no-engine', message: 'this gateway serves no engine' });
    if (op === 'cancel') {
      if (id === null || !/^0x[0-9a-fA-F]{64}$/.test(id)) return this.sendJson(res, '400 Bad Request', { error: 'bad-id', message: 'op=cancel needs id=<submission id>: 0x and 64 hex digits' });
      if (!requestCancel(this.engine.control, id)) return this.sendJson(res, '503 Service Unavailable', { error: 'busy', message: 'the submitter has not taken the previous cancel requests yet; retry shortly' });
      this.log.warn(`submitter cancel of ${id} requested over the gateway`);
      return this.sendJson(res, '202 Accepted', { requested: 'cancel', id: id.toLowerCase(), state: readControl(this.engine.control) });
    }
    if (op !== 'pause' && op !== 'resume' && op !== 'reset') return this.sendJson(res, '400 Bad Request', { error: 'bad-op', message: 'op must be pause, resume, reset or cancel' });
    requestControl(this.engine.control, op);
    this.log.warn(`submitter ${op} requested over the gateway`);
    this.sendJson(res, '202 Accepted', { requested: op, state: readControl(this.engine.control) });
  }

  /** `GET /health`: actors, node connection, head, native secp256k1; ok only when every actor runs and a node source is connected. */
  health(): Health {
    const problems: string[] = [];
    const actors: Health['actors'] = {};
    const sources: Health['node']['sources'] = {};
    let uptimeSec = 0;
    if (this.engine !== null) {
      const err = this.engine.error();
      if (err !== null) problems.push(`engine failed: ${err.code}: ${err.message}`);
      const s = this.engine.stats();
      uptimeSec = s.uptimeSec;
      for (const [name, st] of Object.entries(s.stages)) {
        actors[name] = { status: st.status, restarts: st.restarts };
        if (st.status !== 'running') problems.push(`actor ${name} is ${st.status}`);
      }
      for (const src of this.engine.config.ingest.sources) {
        if (src.kind !== 'rpc-ws') continue;
        const n = s.stages.ingest?.counters ?? {};
        const up = n[`source.${src.name}.connected`] ?? 0;
        const down = n[`source.${src.name}.disconnected`] ?? 0;
        // Before ingest's first metrics snapshot nothing is known; after it, a source that is
        // still retrying (never connected) counts as disconnected.
        const trying = (n[`source.${src.name}.retry`] ?? 0) + (n[`source.${src.name}.error`] ?? 0);
        sources[src.name] = up > down ? 'connected' : down > 0 || trying > 0 ? 'disconnected' : 'unknown';
      }
      const states = Object.values(sources);
      if (states.length > 0 && states.every((x) => x === 'disconnected')) problems.push('no node source is connected');
    }
    if (this.closing) problems.push('shutting down');
    const native = recoveryBackend() === 'native';
    return {
      status: problems.length === 0 ? 'ok' : 'unhealthy',
      problems,
      actors,
      node: { sources, headBlock: this.head?.number ?? null, headAgeMs: this.head === null ? null : Date.now() - this.head.at },
      submitter: this.engine === null ? null : readControl(this.engine.control),
      secp256k1: { native, error: native ? null : nativeBindingError() },
      clients: this.sockets.size,
      uptimeSec,
    };
  }

  /** What the gateway counts (for `/metrics` and tests). */
  figures(): GatewayFigures {
    const clientsByEncoding: Record<string, number> = { json: 0, msgpack: 0 };
    for (const ws of this.sockets) clientsByEncoding[ws.getUserData().encoding]!++;
    return {
      clients: this.sockets.size,
      clientsByEncoding,
      framesSent: { ...this.counts.framesSent },
      framesDropped: this.counts.framesDropped,
      backpressureCuts: this.counts.backpressureCuts,
      errorFrames: { ...this.counts.errorFrames },
      refused: { ...this.counts.refused },
      tapDrops: this.engine?.txTapDrops() ?? 0,
      headBlock: this.head?.number ?? null,
    };
  }

  private metricsText(): string {
    const empty: EngineStats = { uptimeSec: 0, stages: {}, endToEndUs: { count: 0, p50: 0, p90: 0, p99: 0, p999: 0, max: 0, mean: 0 }, output: { records: 0, duplicates: 0, perSecond: 0, handlerErrors: 0 } };
    return engineExposition(this.engine?.stats() ?? empty, this.figures(), { secp256k1Native: recoveryBackend() === 'native', opportunitiesOut: this.oppsOut, submitter: this.engine === null ? null : readControl(this.engine.control) });
  }

  /** `GET /v1/status`: per-stage p50/p99, health, and the latest opportunities. */
  status(): StatusView {
    const s = this.engine?.stats() ?? null;
    const stages: StatusView['stages'] = {};
    if (s !== null) {
      for (const [name, st] of Object.entries(s.stages)) {
        stages[name] = { status: st.status, records: st.records, serviceP50Us: st.serviceUs.p50, serviceP99Us: st.serviceUs.p99, queueWaitP50Us: st.queueWaitUs.p50, queueWaitP99Us: st.queueWaitUs.p99 };
      }
      const h = s.stages.scorer?.histogramsUs.firstSeenToScored;
      if (h) stages.firstSeenToOpportunity = { status: 'latency', records: h.count, serviceP50Us: h.p50, serviceP99Us: h.p99, queueWaitP50Us: 0, queueWaitP99Us: 0 };
    }
    return { health: this.health(), stages, opportunities: { ...this.oppsOut }, recent: [...this.recent].reverse(), clients: this.sockets.size };
  }

  /**
   * Graceful shutdown: stops accepting, sends every client a `shutdown` frame, gives them up to
   * `shutdownGraceMs` to take what is queued, then closes their sockets (1001) and the app.
   */
  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    if (this.statsTimer) clearInterval(this.statsTimer);
    if (this.listenSocket) uWS.us_listen_socket_close(this.listenSocket);
    this.listenSocket = null;
    for (const ws of this.sockets) this.reply(ws, { type: 'shutdown', message: 'the gateway is shutting down' });
    const deadline = performance.now() + this.config.shutdownGraceMs;
    while (performance.now() < deadline && [...this.sockets].some((ws) => ws.getUserData().open && ws.getBufferedAmount() > 0)) {
      await new Promise((r) => setTimeout(r, 20));
    }
    for (const ws of [...this.sockets]) {
      const c = ws.getUserData();
      if (c.open) {
        c.open = false;
        ws.end(1001, 'server shutting down');
      }
    }
    // Give the close frames a turn of the loop to go out before the app closes what is left.
    await new Promise((r) => setTimeout(r, 10));
    this.app.close();
    this.protect?.close();
    this.ledger?.close();
    this.log.info('gateway closed', { framesSent: this.counts.framesSent });
  }
}

/** The JSON behind the status page. */
export interface StatusView {
  health: Health;
  stages: Record<string, { status: string; records: number; serviceP50Us: number; serviceP99Us: number; queueWaitP50Us: number; queueWaitP99Us: number }>;
  opportunities: Record<string, number>;
  recent: unknown[];
  clients: number;
}

/** One server frame, encoded at most once per encoding however many clients get it. */
class Frames {
  private json: string | null = null;
  private msgpack: Buffer | null = null;
  private value: unknown = null;

  constructor(
    private readonly type: string,
    private readonly payload: unknown,
  ) {}

  data(): unknown {
    if (this.value === null) this.value = toJsonValue(this.payload);
    return this.value;
  }

  get(enc: Encoding): string | Buffer {
    if (enc === 'json') return (this.json ??= `{"type":${JSON.stringify(this.type)},"data":${JSON.stringify(this.data())}}`);
    return (this.msgpack ??= pack({ type: this.type, data: this.data() }));
  }
}
