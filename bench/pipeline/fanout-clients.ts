/**
 * Websocket clients in a process of their own, for the gateway benchmarks (gateway-fanout,
 * gateway-latency): the parent forks this script and drives it over the IPC channel. The clients
 * speak the `/v1/stream` protocol (hello, then subscribe to opportunities) and time each
 * opportunity frame on arrival against the monotonic stamps in it (process.hrtime is
 * CLOCK_MONOTONIC, the same clock in every process of the host).
 *
 * The clients are the measuring instrument, so they are as cheap as a websocket client can be: a
 * minimal RFC 6455 client on `node:net` (upgrade handshake with the accept check, then frames parsed
 * straight out of the bytes read, every socket reading into one shared buffer; client frames
 * masked). 200 `ws` package clients taking 200k frames/s needed ~0.9 of a core (~2.7 µs of JS per
 * frame), so a neighbour on the 2 vCPUs put the client process behind and its queue, not the
 * server, made the tail. The same clients serve every server a benchmark compares.
 *
 * Modes:
 * - `fanout`: many clients; receive time − `data.timings.scoredNs` (the publisher stamps it at
 *   publish), read off the raw bytes (at the offset where the previous frame had it, else by
 *   `Buffer.indexOf`); every VALIDATE_EVERY-th frame of each client is parsed in full and checked.
 *   Receive time is when the bytes were read: one clock read per socket read.
 * - `latency`: every frame parsed in full; receive time − first-seen, − scored and − verified, per
 *   path (see {@link pathOf}), and each frame's id, revision and arrival time.
 *
 * Parent → child: `connect`, `window` (start counting), `end` (wait for quiet, report the window),
 * `progress` (report deliveries every n ms, for the parent's flow control), `summary` (percentiles
 * per label over every window), `close`. The child exits when the parent goes away.
 * {@link ClientsProcess} is the parent's side; importing this module runs no client.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { createHash, randomBytes, randomFillSync } from 'node:crypto';
import { type Socket, connect as netConnect } from 'node:net';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { monoNs } from '../../src/runtime/clock.js';
import { type Percentiles, createHistogram, percentilesUs, recordNs } from '../../src/runtime/metrics.js';

/** Commands from the parent. */
export type ClientCommand =
  | { op: 'connect'; group: string; url: string; key: string; count: number; mode: 'fanout' | 'latency' }
  | { op: 'window'; group: string; label: string }
  | { op: 'progress'; everyMs: number }
  /** Report once no frame has arrived for `quietMs` (default 60; 0 at once, for a stream that never pauses). */
  | { op: 'end'; quietMs?: number }
  | { op: 'summary' }
  | { op: 'close' };

/** What one counting window saw. */
export interface WindowReport {
  type: 'window-report';
  group: string;
  label: string;
  /** Opportunity frames received by the group's clients. */
  delivered: number;
  /** Fewest and most frames one client of the group received. */
  perClientMin: number;
  perClientMax: number;
  /** Frames parsed in full and checked, and how many failed the check. */
  validated: number;
  invalid: number;
  /** This process's CPU time over the window (user + system), ms, and of which in the kernel. */
  cpuMs: number;
  sysMs: number;
  /** This process's event-loop delay over the window (µs): how far the clients themselves fell behind. */
  loopDelayUs: { p50: number; p99: number; max: number };
  /** From `window` to the last frame, ms. */
  wallMs: number;
  /** Clients of the group whose socket closed. */
  closed: number;
  /** Fanout mode: receive − scoredNs over this window alone (the label's histogram pools every window). */
  latencyUs: Percentiles;
}

/** Replies to the parent. */
export type ClientReply =
  | { type: 'connected'; group: string; clients: number; ms: number }
  | { type: 'window-ready' }
  | { type: 'progress'; delivered: number }
  | WindowReport
  | { type: 'summary'; latencyUs: Record<string, Percentiles>; frames: Record<string, number>; arrivals: Record<string, [id: string, recvNs: number][]> }
  | { type: 'closed' }
  | { type: 'error'; message: string };

/** Frames of each client fully parsed and checked in fanout mode (the rest are read off the bytes). */
const VALIDATE_EVERY = 100;
const SCORED = Buffer.from('"scoredNs":');
const OPPORTUNITY = Buffer.from('"type":"opportunity"');
/** `end` waits until no frame has arrived for this long. */
const QUIET_MS = 60;
const QUIET_MAX_MS = 5000;

// ---- a minimal RFC 6455 client ---------------------------------------------------------------------

const WS_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
const HEAD_END = Buffer.from('\r\n\r\n');
const HEAD_MAX = 16 * 1024;
/**
 * Every socket reads into this one buffer (`onread`): a read's callback runs to the end before the
 * next read starts, and consumes the bytes or copies an unfinished frame into its client's carry.
 */
const READ_BUFFER = Buffer.allocUnsafe(256 * 1024);

const OP_CONTINUATION = 0x0;
const OP_TEXT = 0x1;
const OP_BINARY = 0x2;
const OP_CLOSE = 0x8;
const OP_PING = 0x9;
const OP_PONG = 0xa;

/** What a client does with a whole message (text or binary), its bytes at buf[start, end). */
type OnMessage = (c: Client, opcode: number, buf: Buffer, start: number, end: number, now: number) => void;

interface Client {
  group: string;
  socket: Socket;
  received: number;
  closed: boolean;
  /** Until the 101 has come: the response head is gathered in `carry`. */
  upgraded: boolean;
  /** Bytes of an unfinished frame (or of the response head), carried to the next read. */
  carry: Buffer;
  carryLen: number;
  /** A fragmented message's pieces so far (copies), and its opcode. */
  fragments: Buffer[] | null;
  fragmentOpcode: number;
  closeSent: boolean;
  subscribed: boolean;
  onMessage: OnMessage;
  /** Until subscribed: how a failure ends the connect. */
  fail: (err: Error) => void;
}

/** Sends one masked frame (RFC 6455 §5.3: every client-to-server frame is masked). */
function sendFrame(c: Client, opcode: number, payload: Buffer): void {
  if (c.socket.destroyed || c.closeSent) return;
  const n = payload.length;
  const hdr = n < 126 ? 2 : n < 65536 ? 4 : 10;
  const f = Buffer.allocUnsafe(hdr + 4 + n);
  f[0] = 0x80 | opcode;
  if (n < 126) f[1] = 0x80 | n;
  else if (n < 65536) {
    f[1] = 0x80 | 126;
    f.writeUInt16BE(n, 2);
  } else {
    f[1] = 0x80 | 127;
    f.writeUInt32BE(Math.floor(n / 2 ** 32), 2);
    f.writeUInt32BE(n >>> 0, 6);
  }
  randomFillSync(f, hdr, 4);
  for (let i = 0; i < n; i++) f[hdr + 4 + i] = payload[i]! ^ f[hdr + (i & 3)]!;
  if (opcode === OP_CLOSE) c.closeSent = true;
  c.socket.write(f);
}

/** Appends buf[start, end) to the client's carry, growing it when it must. */
function carry(c: Client, buf: Buffer, start: number, end: number): void {
  const need = c.carryLen + (end - start);
  if (need > c.carry.length) {
    const grown = Buffer.allocUnsafe(Math.max(need, c.carry.length * 2));
    c.carry.copy(grown, 0, 0, c.carryLen);
    c.carry = grown;
  }
  buf.copy(c.carry, c.carryLen, start, end);
  c.carryLen = need;
}

/** Header plus payload bytes of the frame at buf[at], or -1 while its header is incomplete. */
function frameBytes(buf: Buffer, at: number, end: number): number {
  if (end - at < 2) return -1;
  const b1 = buf[at + 1]!;
  let len = b1 & 0x7f;
  let hdr = 2;
  if (len === 126) {
    if (end - at < 4) return -1;
    len = (buf[at + 2]! << 8) | buf[at + 3]!;
    hdr = 4;
  } else if (len === 127) {
    if (end - at < 10) return -1;
    len = buf.readUInt32BE(at + 2) * 2 ** 32 + buf.readUInt32BE(at + 6);
    hdr = 10;
  }
  // A masked server frame is a protocol error; counted here only so that it is skipped whole.
  return (b1 & 0x80 ? hdr + 4 : hdr) + len;
}

/** Ends a client over a protocol error: once subscribed, counted as an invalid frame (and the client as closed); before, the connect fails. */
function protocolError(c: Client, why: string): void {
  if (c.subscribed) {
    invalid++;
    process.stderr.write(`fanout-clients: websocket protocol error, client closed: ${why}\n`);
  } else c.fail(new Error(`websocket protocol error: ${why}`));
  c.socket.destroy();
}

/** One whole frame at buf[at, at + bytes). */
function onFrame(c: Client, buf: Buffer, at: number, bytes: number, now: number): void {
  const b0 = buf[at]!;
  const b1 = buf[at + 1]!;
  if (b1 & 0x80) return protocolError(c, 'masked frame from the server');
  if (b0 & 0x70) return protocolError(c, 'RSV bits set (no extension was negotiated)');
  const len7 = b1 & 0x7f;
  const start = at + (len7 < 126 ? 2 : len7 === 126 ? 4 : 10);
  const end = at + bytes;
  const opcode = b0 & 0x0f;
  const fin = (b0 & 0x80) !== 0;
  if (opcode === OP_TEXT || opcode === OP_BINARY) {
    if (c.fragments !== null) return protocolError(c, 'new message inside a fragmented one');
    if (fin) c.onMessage(c, opcode, buf, start, end, now);
    else {
      c.fragments = [Buffer.from(buf.subarray(start, end))];
      c.fragmentOpcode = opcode;
    }
    return;
  }
  if (opcode === OP_CONTINUATION) {
    if (c.fragments === null) return protocolError(c, 'continuation without a message');
    c.fragments.push(Buffer.from(buf.subarray(start, end)));
    if (fin) {
      const whole = Buffer.concat(c.fragments);
      c.fragments = null;
      c.onMessage(c, c.fragmentOpcode, whole, 0, whole.length, now);
    }
    return;
  }
  if (opcode >= 0x8 && (!fin || end - start > 125)) return protocolError(c, 'fragmented or long control frame');
  if (opcode === OP_PING) sendFrame(c, OP_PONG, buf.subarray(start, end));
  else if (opcode === OP_CLOSE) {
    // Echo the status code, then the server closes the TCP connection (§5.5.1).
    sendFrame(c, OP_CLOSE, buf.subarray(start, Math.min(end, start + 2)));
    c.socket.end();
  } else if (opcode !== OP_PONG) protocolError(c, `opcode ${opcode}`);
}

/** Frames in buf[off, end): whole ones handled in place, an unfinished one copied to the carry. */
function onFrames(c: Client, buf: Buffer, off: number, end: number, now: number): void {
  if (c.carryLen > 0) {
    // Finish the frame begun in an earlier read: its header first, then its payload.
    let bytes = frameBytes(c.carry, 0, c.carryLen);
    if (bytes < 0) {
      const take = Math.min(14 - c.carryLen, end - off);
      carry(c, buf, off, off + take);
      off += take;
      bytes = frameBytes(c.carry, 0, c.carryLen);
      if (bytes < 0) return;
      if (bytes < c.carryLen) {
        // Took bytes of the next frame too: give them back.
        off -= c.carryLen - bytes;
        c.carryLen = bytes;
      }
    }
    if (c.carryLen < bytes) {
      const take = Math.min(bytes - c.carryLen, end - off);
      carry(c, buf, off, off + take);
      off += take;
      if (c.carryLen < bytes) return;
    }
    c.carryLen = 0;
    onFrame(c, c.carry, 0, bytes, now);
  }
  while (off < end && !c.socket.destroyed) {
    const bytes = frameBytes(buf, off, end);
    if (bytes < 0 || off + bytes > end) {
      carry(c, buf, off, end);
      return;
    }
    onFrame(c, buf, off, bytes, now);
    off += bytes;
  }
}

/** Until the 101: gathers the response head, checks it, and hands whatever follows it to the frame parser. */
function onHandshake(c: Client, buf: Buffer, n: number, accept: string, now: number): void {
  carry(c, buf, 0, n);
  const at = c.carry.subarray(0, c.carryLen).indexOf(HEAD_END);
  if (at < 0) {
    if (c.carryLen > HEAD_MAX) protocolError(c, 'response head too long');
    return;
  }
  const [status = '', ...lines] = c.carry.toString('latin1', 0, at).split('\r\n');
  const headers = new Map<string, string>();
  for (const line of lines) {
    const colon = line.indexOf(':');
    if (colon > 0) headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
  }
  if (!/^HTTP\/1\.1 101( |$)/.test(status)) return protocolError(c, `upgrade refused: ${status}`);
  if (headers.get('upgrade')?.toLowerCase() !== 'websocket' || !/\bupgrade\b/i.test(headers.get('connection') ?? ''))
    return protocolError(c, '101 without Upgrade: websocket and Connection: Upgrade');
  if (headers.get('sec-websocket-accept') !== accept) return protocolError(c, 'wrong Sec-WebSocket-Accept');
  if (headers.has('sec-websocket-extensions')) return protocolError(c, 'an extension was negotiated though none was offered');
  c.upgraded = true;
  const rest = Buffer.from(c.carry.subarray(at + HEAD_END.length, c.carryLen));
  c.carryLen = 0;
  if (rest.length > 0) onFrames(c, rest, 0, rest.length, now);
}

// ---- the clients -----------------------------------------------------------------------------------

const loopDelay = monitorEventLoopDelay({ resolution: 1 });

type Histogram = ReturnType<typeof createHistogram>;

const clients: Client[] = [];
const histograms = new Map<string, Histogram>();
/** Fanout mode records into this one; `end` adds it to its label's histogram, which pools every window. */
const windowHistogram = createHistogram();
const frames: Record<string, number> = {};
/** Latency mode: each frame's `id/revision` and arrival time, per label, for the parent to match with its own stamps. */
const arrivals: Record<string, [string, number][]> = {};
let label = '';
let activeGroup = '';
let delivered = 0;
let validated = 0;
let invalid = 0;
let lastFrameAt = 0;
let windowStartAt = 0;
let cpuAtStart = process.cpuUsage();
let progressTimer: NodeJS.Timeout | null = null;
let mode: 'fanout' | 'latency' = 'fanout';

function send(msg: ClientReply): void {
  process.send?.(msg);
}

function histogram(name: string): Histogram {
  let h = histograms.get(name);
  if (h === undefined) histograms.set(name, (h = createHistogram()));
  return h;
}

/** Where the stamp was in the last frame (from the payload's start): frames of one run share a layout. */
let scoredAt = -1;

/** The integer after `"scoredNs":` in the payload buf[start, end), or -1. */
function scoredNsOf(buf: Buffer, start: number, end: number): number {
  const n = SCORED.length;
  let at = start + scoredAt;
  // Where the last frame had it (no search: a search crossed ~1.4 KB per frame); else search.
  let same = scoredAt >= 0 && at + n < end;
  for (let k = 0; same && k < n; k++) same = buf[at + k] === SCORED[k];
  if (!same) {
    at = buf.indexOf(SCORED, start);
    if (at < 0 || at + n >= end) return -1; // none, or one in a later frame of the same read
    scoredAt = at - start;
  }
  let v = 0;
  let i = at + n;
  for (let b = buf[i]!; i < end && b >= 48 && b <= 57; b = buf[++i]!) v = v * 10 + (b - 48);
  return i === at + n ? -1 : v;
}

/** Whether `needle` occurs in buf[start, end). */
function includes(buf: Buffer, needle: Buffer, start: number, end: number): boolean {
  const at = buf.indexOf(needle, start);
  return at >= 0 && at + needle.length <= end;
}

/** Full check of one opportunity frame: shape, bigints as decimal strings, and the stamp read off the bytes. */
function valid(text: string, scoredNs: number): boolean {
  try {
    const f = JSON.parse(text) as { type: string; data: Record<string, unknown> & { timings: { scoredNs: number }; plan: unknown[]; profit: Record<string, unknown> } };
    const d = f.data;
    return (
      f.type === 'opportunity' &&
      typeof d.id === 'string' &&
      d.timings.scoredNs === scoredNs &&
      typeof d.amountIn === 'string' &&
      /^-?[0-9]+$/.test(d.amountIn) &&
      typeof d.profit.netWei === 'string' &&
      Array.isArray(d.plan) &&
      d.plan.length > 0 &&
      Array.isArray(d.pools) &&
      Array.isArray(d.tokenPath)
    );
  } catch {
    return false;
  }
}

function onFanoutFrame(c: Client, opcode: number, buf: Buffer, start: number, end: number, now: number): void {
  if (opcode !== OP_TEXT) return;
  const scoredNs = scoredNsOf(buf, start, end);
  if (scoredNs < 0) {
    if (includes(buf, OPPORTUNITY, start, end)) invalid++; // else hello, subscribed, shutdown
    return;
  }
  c.received++;
  if (c.group !== activeGroup) return;
  delivered++;
  lastFrameAt = now;
  recordNs(windowHistogram, now - scoredNs);
  if (c.received % VALIDATE_EVERY === 0) {
    validated++;
    if (!valid(buf.toString('utf8', start, end), scoredNs)) invalid++;
  }
}

/**
 * How an opportunity frame got here: `closed-form` when it left the scorer as soon as it was scored
 * (`unverified`, or `pending` with its verification outcome to follow), `verified` or `rejected`
 * for a verification outcome (a later revision, or, where the scorer holds a candidate until it is
 * verified, the one record).
 */
export function pathOf(verification: string): 'closed-form' | 'verified' | 'rejected' {
  return verification === 'verified' ? 'verified' : verification === 'rejected' ? 'rejected' : 'closed-form';
}

function onLatencyFrame(c: Client, opcode: number, buf: Buffer, start: number, end: number, now: number): void {
  if (opcode !== OP_TEXT) return;
  let f: { type: string; data?: { id: string; revision?: number; kind: string; verification: string; timings: { firstSeenNs: number; scoredNs: number; verifiedNs: number } } };
  try {
    f = JSON.parse(buf.toString('utf8', start, end));
  } catch {
    invalid++;
    return;
  }
  if (f.type !== 'opportunity' || f.data === undefined) return;
  c.received++;
  if (c.group !== activeGroup) return;
  delivered++;
  validated++;
  lastFrameAt = now;
  const { id, revision, verification, kind, timings: t } = f.data;
  (arrivals[label] ??= []).push([`${id}/${revision ?? 0}`, now]);
  frames[`${verification}.${kind}`] = (frames[`${verification}.${kind}`] ?? 0) + 1;
  const path = pathOf(verification);
  if (!(t.firstSeenNs > 0 && t.scoredNs >= t.firstSeenNs)) {
    invalid++;
    return;
  }
  recordNs(histogram(`${label}/seen/${path}`), now - t.firstSeenNs);
  recordNs(histogram(`${label}/scored/${path}`), now - t.scoredNs);
  if (t.verifiedNs > 0) recordNs(histogram(`${label}/verified/${path}`), now - t.verifiedNs);
}

/** Opens one client: TCP, the upgrade, hello, subscribe to opportunities; resolves once subscribed. */
function connectOne(url: string, key: string, group: string): Promise<Client> {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    if (u.protocol !== 'ws:') throw new Error(`only ws:// URLs (${url})`);
    const wsKey = randomBytes(16).toString('base64');
    const accept = createHash('sha1').update(wsKey + WS_GUID).digest('base64');
    let settled = false;
    const settle = (err: Error | null) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (err === null) {
        c.subscribed = true;
        c.onMessage = mode === 'fanout' ? onFanoutFrame : onLatencyFrame;
        resolve(c);
      } else {
        socket.destroy();
        reject(err);
      }
    };
    const socket = netConnect({
      host: u.hostname,
      port: Number(u.port || 80),
      noDelay: true,
      onread: {
        buffer: READ_BUFFER,
        callback: (n: number, buf: Uint8Array) => {
          const now = monoNs();
          if (c.upgraded) onFrames(c, buf as Buffer, 0, n, now);
          else onHandshake(c, buf as Buffer, n, accept, now);
          return true; // keep reading
        },
      },
    });
    const c: Client = {
      group,
      socket,
      received: 0,
      closed: false,
      upgraded: false,
      carry: Buffer.allocUnsafe(4096),
      carryLen: 0,
      fragments: null,
      fragmentOpcode: 0,
      closeSent: false,
      subscribed: false,
      onMessage: (cl, opcode, buf, start, end) => {
        // Until subscribed: hello, then our subscribe's reply.
        if (opcode !== OP_TEXT) return;
        let m: { type: string; id?: number; message?: string };
        try {
          m = JSON.parse(buf.toString('utf8', start, end));
        } catch {
          return settle(new Error(`not JSON before subscribed: ${buf.toString('utf8', start, Math.min(end, start + 200))}`));
        }
        if (m.type === 'hello') sendFrame(cl, OP_TEXT, Buffer.from(JSON.stringify({ op: 'subscribe', id: 1, topics: ['opportunities'] })));
        else if (m.type === 'subscribed' && m.id === 1) settle(null);
        else if (m.type === 'error') settle(new Error(`subscribe refused: ${m.message}`));
      },
      fail: (err) => settle(err),
    };
    const timer = setTimeout(() => settle(new Error(`no subscribed reply from ${url} within 15 s`)), 15_000);
    socket.on('connect', () => {
      socket.write(
        `GET ${u.pathname}${u.search} HTTP/1.1\r\nHost: ${u.host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
          `Sec-WebSocket-Key: ${wsKey}\r\nSec-WebSocket-Version: 13\r\nAuthorization: Bearer ${key}\r\n\r\n`,
      );
    });
    socket.on('error', (err) => settle(err));
    socket.on('close', () => {
      c.closed = true;
      settle(new Error(`connection to ${url} closed before subscribed`));
    });
  });
}

async function connect(cmd: Extract<ClientCommand, { op: 'connect' }>): Promise<void> {
  mode = cmd.mode;
  const t0 = performance.now();
  // In batches: a few hundred simultaneous handshakes on 2 vCPUs only queue in the kernel.
  for (let i = 0; i < cmd.count; i += 50) {
    const batch = await Promise.all(Array.from({ length: Math.min(50, cmd.count - i) }, () => connectOne(cmd.url, cmd.key, cmd.group)));
    clients.push(...batch);
  }
  send({ type: 'connected', group: cmd.group, clients: cmd.count, ms: Math.round(performance.now() - t0) });
}

async function endWindow(quietMs: number): Promise<void> {
  const t0 = performance.now();
  // In-flight frames still count: wait until the sockets have been quiet for quietMs.
  while (performance.now() - t0 < QUIET_MAX_MS && (monoNs() - Math.max(lastFrameAt, windowStartAt)) / 1e6 < quietMs) await new Promise((r) => setTimeout(r, 10));
  const cpu = process.cpuUsage(cpuAtStart);
  const mine = clients.filter((c) => c.group === activeGroup);
  const counts = mine.map((c) => c.received);
  send({
    type: 'window-report',
    group: activeGroup,
    label,
    delivered,
    perClientMin: Math.min(...counts),
    perClientMax: Math.max(...counts),
    validated,
    invalid,
    cpuMs: (cpu.user + cpu.system) / 1000,
    sysMs: cpu.system / 1000,
    loopDelayUs: { p50: loopDelay.percentile(50) / 1000, p99: loopDelay.percentile(99) / 1000, max: loopDelay.max / 1000 },
    wallMs: (Math.max(lastFrameAt, windowStartAt) - windowStartAt) / 1e6,
    closed: mine.filter((c) => c.closed).length,
    latencyUs: percentilesUs(windowHistogram),
  });
  if (mode === 'fanout') histogram(label).add(windowHistogram);
  activeGroup = '';
}

function onCommand(cmd: ClientCommand): void {
  switch (cmd.op) {
    case 'connect':
      connect(cmd).catch((err: Error) => send({ type: 'error', message: err.message }));
      return;
    case 'window':
      activeGroup = cmd.group;
      label = cmd.label;
      delivered = validated = invalid = 0;
      for (const c of clients) c.received = 0;
      windowStartAt = lastFrameAt = monoNs();
      cpuAtStart = process.cpuUsage();
      loopDelay.reset();
      windowHistogram.reset();
      send({ type: 'window-ready' });
      return;
    case 'progress':
      if (progressTimer) clearInterval(progressTimer);
      progressTimer = cmd.everyMs > 0 ? setInterval(() => send({ type: 'progress', delivered }), cmd.everyMs) : null;
      return;
    case 'end':
      if (progressTimer) clearInterval(progressTimer);
      progressTimer = null;
      void endWindow(cmd.quietMs ?? QUIET_MS);
      return;
    case 'summary': {
      const latencyUs: Record<string, Percentiles> = {};
      for (const [name, h] of histograms) latencyUs[name] = percentilesUs(h);
      send({ type: 'summary', latencyUs, frames, arrivals });
      return;
    }
    case 'close':
      for (const c of clients) c.socket.destroy();
      send({ type: 'closed' });
      process.disconnect?.();
      return;
  }
}

// Forked as a script: be the client process. Imported (by a benchmark): only the driver below.
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  loopDelay.enable();
  process.on('disconnect', () => process.exit(0));
  process.on('message', onCommand);
}

/** The parent's side: forks this script and drives it by request and reply over IPC. */
export class ClientsProcess {
  private readonly child: ChildProcess;
  private waiting: { type: string; resolve: (m: ClientReply) => void; reject: (e: Error) => void } | null = null;
  /** Called with the clients' delivery count while `progress` reports run. */
  onProgress: ((delivered: number) => void) | null = null;

  constructor() {
    // ORION_BENCH_CLIENT_PROF=1 writes a CPU profile of the client process to /tmp/orion-client-prof.
    const execArgv = process.env.ORION_BENCH_CLIENT_PROF ? ['--cpu-prof', '--cpu-prof-dir=/tmp/orion-client-prof'] : [];
    this.child = fork(fileURLToPath(import.meta.url), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], execArgv });
    this.child.on('message', (m: ClientReply) => {
      if (m.type === 'progress') {
        this.onProgress?.(m.delivered);
        return;
      }
      const w = this.waiting;
      if (w === null) return;
      this.waiting = null;
      if (m.type === 'error') w.reject(new Error(`client process: ${m.message}`));
      else if (m.type !== w.type) w.reject(new Error(`client process answered ${m.type}, expected ${w.type}`));
      else w.resolve(m);
    });
    this.child.on('exit', (code, signal) => this.waiting?.reject(new Error(`client process exited (${code ?? signal})`)));
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** Sends a command that has no reply. */
  tell(cmd: ClientCommand): void {
    this.child.send(cmd);
  }

  /** Sends a command and resolves with its reply of type `type`. */
  ask<T extends ClientReply['type']>(cmd: ClientCommand, type: T, timeoutMs = 30_000): Promise<Extract<ClientReply, { type: T }>> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`client process: no ${type} within ${timeoutMs} ms`)), timeoutMs);
      this.waiting = {
        type,
        resolve: (m) => {
          clearTimeout(timer);
          resolve(m as Extract<ClientReply, { type: T }>);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      };
      this.child.send(cmd);
    });
  }

  /** Closes every client socket and waits for the process to exit (killed after 3 s). */
  async close(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise((r) => this.child.once('exit', r));
    try {
      if (this.child.connected) await this.ask({ op: 'close' }, 'closed', 5000);
    } catch {
      // it is going away regardless
    }
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 3000);
    await exited;
    clearTimeout(timer);
  }
}
