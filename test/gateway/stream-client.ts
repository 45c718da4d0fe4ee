import type { IncomingMessage } from 'node:http';
import { unpack } from 'msgpackr';
import WebSocket from 'ws';

/** One server frame, decoded from JSON text or a msgpack binary frame. */
export interface Frame {
  type: string;
  id?: unknown;
  code?: string;
  message?: string;
  /** Payload of data frames and the other fields of replies; tests check them field by field. */
  [k: string]: any;
}

/** How a socket ended, as the client saw it. */
export interface Closed {
  code: number;
  reason: string;
}

/** Options of {@link StreamClient.connect}. */
export interface ConnectOptions {
  /** API key; omitted: none. */
  key?: string;
  /** Send it as `Authorization: Bearer` (default) or as `?token=`. */
  via?: 'header' | 'query';
  encoding?: 'json' | 'msgpack';
}

/**
 * A real `ws` client of `/v1/stream` that keeps every frame it receives, decoded, with the wire
 * bytes alongside; tests wait on frames by predicate. `connect` resolves after the hello frame.
 */
export class StreamClient {
  readonly frames: Frame[] = [];
  /** The wire form of each frame in {@link frames}: text for JSON, bytes for msgpack. */
  readonly wire: (string | Buffer)[] = [];
  /** Resolves when the socket closes. */
  readonly closed: Promise<Closed>;
  private waiters: (() => void)[] = [];
  private nextId = 1;
  private isClosed: Closed | null = null;

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data, isBinary) => {
      const buf = Buffer.isBuffer(data) ? data : Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
      if (isBinary) {
        this.wire.push(buf);
        this.frames.push(unpack(buf) as Frame);
      } else {
        const text = buf.toString('utf8');
        this.wire.push(text);
        this.frames.push(JSON.parse(text) as Frame);
      }
      this.wake();
    });
    ws.on('error', () => {});
    this.closed = new Promise((resolve) =>
      ws.on('close', (code, reason) => {
        this.isClosed = { code, reason: reason.toString('utf8') };
        resolve(this.isClosed);
        this.wake();
      }),
    );
  }

  /** Opens a socket and waits for its hello frame. */
  static async connect(streamUrl: string, opts: ConnectOptions = {}): Promise<StreamClient> {
    const url = new URL(streamUrl);
    if (opts.encoding) url.searchParams.set('encoding', opts.encoding);
    if (opts.key !== undefined && opts.via === 'query') url.searchParams.set('token', opts.key);
    const headers = opts.key !== undefined && opts.via !== 'query' ? { authorization: `Bearer ${opts.key}` } : {};
    const client = new StreamClient(new WebSocket(url, { headers }));
    await new Promise<void>((resolve, reject) => {
      client.ws.once('open', () => resolve());
      client.ws.once('error', reject);
    });
    await client.waitFor((f) => f.type === 'hello', 'hello');
    return client;
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  /** Sends an op object (as JSON text), or a raw string or bytes as they are. */
  send(op: Record<string, unknown> | string | Buffer): void {
    this.ws.send(typeof op === 'string' || Buffer.isBuffer(op) ? op : JSON.stringify(op));
  }

  /** Sends `op` with a fresh id and resolves with the reply (or error frame) carrying that id. */
  async request(op: Record<string, unknown>, ms = 5000): Promise<Frame> {
    const id = `r${this.nextId++}`;
    const from = this.frames.length;
    this.send({ ...op, id });
    return this.waitFor((f) => f.id === id, `reply to ${JSON.stringify(op)}`, ms, from);
  }

  /**
   * A ping round trip: every frame the server sent this socket before it read the ping has
   * arrived once this resolves (one socket, one ordered stream).
   */
  async sync(ms = 5000): Promise<void> {
    const pong = await this.request({ op: 'ping' }, ms);
    if (pong.type !== 'pong') throw new Error(`ping answered with ${JSON.stringify(pong)}`);
  }

  /** The first frame at or after index `from` that satisfies `pred`; fails after `ms` or on close. */
  async waitFor(pred: (f: Frame) => boolean, what: string, ms = 5000, from = 0): Promise<Frame> {
    const deadline = Date.now() + ms;
    let at = from;
    for (;;) {
      for (; at < this.frames.length; at++) if (pred(this.frames[at]!)) return this.frames[at]!;
      if (this.isClosed) throw new Error(`closed (${this.isClosed.code} ${this.isClosed.reason}) before ${what}; frames: ${this.summary()}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no ${what} within ${ms} ms; frames: ${this.summary()}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  /** Frames of `type`, in arrival order. */
  ofType(type: string): Frame[] {
    return this.frames.filter((f) => f.type === type);
  }

  /** Ids of the opportunity frames received, in order. */
  opportunityIds(): string[] {
    return this.ofType('opportunity').map((f) => f.data.id as string);
  }

  private summary(): string {
    const counts: Record<string, number> = {};
    for (const f of this.frames) counts[f.type] = (counts[f.type] ?? 0) + 1;
    const last = this.frames.slice(-3).map((f) => JSON.stringify(f).slice(0, 200));
    return `${JSON.stringify(counts)} last ${last.join(' ')}`;
  }

  /** Closes (1000) and waits for the close. */
  async close(): Promise<Closed> {
    if (this.ws.readyState === WebSocket.OPEN || this.ws.readyState === WebSocket.CONNECTING) this.ws.close(1000);
    return this.closed;
  }

  /** Drops the connection without a close handshake. */
  terminate(): void {
    this.ws.terminate();
  }
}

/** What a refused upgrade answered: status and JSON body. */
export interface Refusal {
  status: number;
  body: Record<string, unknown>;
  headers: IncomingMessage['headers'];
}

/** Attempts an upgrade that the server should refuse; resolves with its HTTP answer, fails if it opens. */
export function refusedUpgrade(streamUrl: string, opts: ConnectOptions & { query?: string } = {}): Promise<Refusal> {
  const url = new URL(streamUrl);
  if (opts.query) url.search = opts.query;
  if (opts.encoding) url.searchParams.set('encoding', opts.encoding);
  if (opts.key !== undefined && opts.via === 'query') url.searchParams.set('token', opts.key);
  const headers = opts.key !== undefined && opts.via !== 'query' ? { authorization: `Bearer ${opts.key}` } : {};
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers });
    ws.on('open', () => {
      ws.terminate();
      reject(new Error(`upgrade to ${url} was accepted`));
    });
    ws.on('error', () => {});
    ws.on('unexpected-response', (_req, res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => {
        resolve({ status: res.statusCode ?? 0, body: text.length > 0 ? (JSON.parse(text) as Record<string, unknown>) : {}, headers: res.headers });
        ws.terminate();
      });
    });
  });
}
