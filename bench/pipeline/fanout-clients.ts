/**
 * Websocket clients in a process of their own, for the gateway benchmarks (gateway-fanout,
 * gateway-latency): the parent forks this script and drives it over the IPC channel. Clients are
 * `ws` package clients, as a searcher's would be; they speak the `/v1/stream` protocol (hello, then
 * subscribe to opportunities) and time each opportunity frame on arrival against the monotonic
 * stamps in it (process.hrtime is CLOCK_MONOTONIC, the same clock in every process of the host).
 *
 * Modes:
 * - `fanout`: many clients; receive time − `data.timings.scoredNs` (the publisher stamps it at
 *   publish), read off the raw bytes with `Buffer.indexOf` so 200 clients in one process keep up;
 *   every VALIDATE_EVERY-th frame of each client is parsed in full and checked.
 * - `latency`: every frame parsed in full; receive time − first-seen, − scored and − verified, per
 *   path (see {@link pathOf}), and each frame's id, revision and arrival time.
 *
 * Parent → child: `connect`, `window` (start counting), `end` (wait for quiet, report the window),
 * `progress` (report deliveries every n ms, for the parent's flow control), `summary` (percentiles
 * per label over every window), `close`. The child exits when the parent goes away.
 * {@link ClientsProcess} is the parent's side; importing this module runs no client.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';
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

/** Frames of each client fully parsed and checked in fanout mode (the rest are read with indexOf). */
const VALIDATE_EVERY = 100;
const SCORED = Buffer.from('"scoredNs":');
/** `end` waits until no frame has arrived for this long. */
const QUIET_MS = 60;
const QUIET_MAX_MS = 5000;

interface Client {
  group: string;
  ws: WebSocket;
  received: number;
  closed: boolean;
}

const loopDelay = monitorEventLoopDelay({ resolution: 1 });

type Histogram = ReturnType<typeof createHistogram>;

const clients: Client[] = [];
const histograms = new Map<string, Histogram>();
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

/** Where the stamp was in the last frame: frames of one run share a layout, so the search starts just before it. */
let scoredHint = 0;

/** The integer after `"scoredNs":` in a frame's bytes, or -1. */
function scoredNsOf(buf: Buffer): number {
  // A search from the start crossed ~1.4 KB per frame and was a quarter of this process's CPU.
  let at = buf.indexOf(SCORED, scoredHint > 64 ? scoredHint - 64 : 0);
  if (at < 0 && scoredHint > 64) at = buf.indexOf(SCORED);
  if (at < 0) return -1;
  scoredHint = at;
  let v = 0;
  let i = at + SCORED.length;
  for (let b = buf[i]!; b >= 48 && b <= 57; b = buf[++i]!) v = v * 10 + (b - 48);
  return i === at + SCORED.length ? -1 : v;
}

/** Full check of one opportunity frame: shape, bigints as decimal strings, and the stamp read by indexOf. */
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

function onFanoutFrame(c: Client, data: Buffer, now: number): void {
  const scoredNs = scoredNsOf(data);
  if (scoredNs < 0) {
    if (data.indexOf('"type":"opportunity"') < 0) return; // hello, subscribed, shutdown
    invalid++;
    return;
  }
  c.received++;
  if (c.group !== activeGroup) return;
  delivered++;
  lastFrameAt = now;
  recordNs(histogram(label), now - scoredNs);
  recordNs(windowHistogram, now - scoredNs);
  if (c.received % VALIDATE_EVERY === 0) {
    validated++;
    if (!valid(data.toString('utf8'), scoredNs)) invalid++;
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

function onLatencyFrame(c: Client, data: Buffer, now: number): void {
  let f: { type: string; data?: { id: string; revision?: number; kind: string; verification: string; timings: { firstSeenNs: number; scoredNs: number; verifiedNs: number } } };
  try {
    f = JSON.parse(data.toString('utf8'));
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

function connectOne(url: string, key: string, group: string): Promise<Client> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers: { authorization: `Bearer ${key}` }, perMessageDeflate: false });
    const c: Client = { group, ws, received: 0, closed: false };
    const timer = setTimeout(() => reject(new Error(`no subscribed reply from ${url} within 15 s`)), 15_000);
    let subscribed = false;
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      const now = monoNs();
      if (!subscribed) {
        const m = JSON.parse(data.toString('utf8')) as { type: string; id?: number; message?: string };
        if (m.type === 'hello') ws.send(JSON.stringify({ op: 'subscribe', id: 1, topics: ['opportunities'] }));
        else if (m.type === 'subscribed' && m.id === 1) {
          subscribed = true;
          clearTimeout(timer);
          resolve(c);
        } else if (m.type === 'error') reject(new Error(`subscribe refused: ${m.message}`));
        return;
      }
      if (isBinary) return;
      if (mode === 'fanout') onFanoutFrame(c, data, now);
      else onLatencyFrame(c, data, now);
    });
    ws.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    ws.on('close', () => {
      c.closed = true;
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
      for (const c of clients) c.ws.terminate();
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
