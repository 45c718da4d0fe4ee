import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { type AddressInfo, createServer } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { type Hex, createWalletClient, http, keccak256 } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { WebSocket, WebSocketServer } from 'ws';
import { RpcWsSource, type RpcWsSourceOptions, resolveRpcWsOptions } from '../../../../src/actors/ingest/sources/rpc-ws.js';
import { BAD_FRAME_CODES, type SourceSink, type SourceStatusEvent } from '../../../../src/actors/ingest/sources/source.js';
import { ANVIL_KEYS, type Anvil, startAnvil } from '../../../../src/devnet/anvil.js';
import type { BlockEvent, RpcTransaction } from '../../../../src/messages/schema.js';
import { monoNs } from '../../../../src/runtime/clock.js';
import { TcpProxy } from '../../../support/tcp-proxy.js';

// ---- support ----

interface SeenTx {
  seenNs: number;
  atNs: number;
  hash: string;
  raw: Uint8Array | null;
  rpc: RpcTransaction | null;
}

/** A sink that keeps everything it is given. */
class Recorder implements SourceSink {
  readonly txs: SeenTx[] = [];
  readonly counts = new Map<string, number>();
  readonly blocks: BlockEvent[] = [];
  readonly events: SourceStatusEvent[] = [];

  tx(_source: number, seenNs: number, hash: string, raw: Uint8Array | null, rpc: RpcTransaction | null): void {
    const atNs = monoNs();
    this.txs.push({ seenNs, atNs, hash, raw, rpc });
    this.counts.set(hash, (this.counts.get(hash) ?? 0) + 1);
  }

  block(_source: number, _seenNs: number, block: BlockEvent): void {
    this.blocks.push(block);
  }

  status(_source: number, event: SourceStatusEvent): void {
    this.events.push(event);
  }

  of<T extends SourceStatusEvent['type']>(type: T): Extract<SourceStatusEvent, { type: T }>[] {
    return this.events.filter((e): e is Extract<SourceStatusEvent, { type: T }> => e.type === type);
  }

  subscribedPending(): number {
    return this.of('subscribed').filter((e) => e.stream !== 'heads').length;
  }
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Polls `cond` until true; fails naming `what` after `timeoutMs` (a hang detector, not a speed check). */
async function until(what: string, cond: () => boolean, timeoutMs = 30_000, state?: () => unknown): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${state ? `; state: ${JSON.stringify(state(), (_k, v) => (typeof v === 'bigint' ? String(v) : v))}` : ''}`);
    await sleep(10);
  }
}

async function rpc<T = unknown>(url: string, method: string, params: unknown[] = []): Promise<T> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }) });
  const body = (await res.json()) as { result?: T; error?: { message: string } };
  if (body.error) throw new Error(`${method}: ${body.error.message}`);
  return body.result as T;
}

/** Signs one transfer locally with viem; `i` picks the type (0 legacy, 1 EIP-2930, 2 EIP-1559) and value. */
async function signTx(key: Hex, chainId: number, nonce: number, i: number): Promise<{ hash: string; raw: Hex }> {
  const account = privateKeyToAccount(key);
  const base = { chainId, nonce, to: '0x000000000000000000000000000000000000dEaD' as const, value: BigInt(i + 1), gas: 21_000n };
  const kind = i % 3;
  const raw =
    kind === 0
      ? await account.signTransaction({ ...base, type: 'legacy', gasPrice: 3_000_000_000n })
      : kind === 1
        ? await account.signTransaction({ ...base, type: 'eip2930', gasPrice: 3_000_000_000n, accessList: [] })
        : await account.signTransaction({ ...base, type: 'eip1559', maxFeePerGas: 5_000_000_000n, maxPriorityFeePerGas: 1_000_000n });
  return { hash: keccak256(raw), raw };
}

/** Signs `n` transactions round-robin over four dev accounts and over types 0, 1 and 2, at their pending nonces. */
async function signTxs(anvil: Anvil, n: number): Promise<{ hash: string; raw: Hex }[]> {
  const keys = anvil.privateKeys.slice(0, 4);
  const nonces = await Promise.all(keys.map(async (k) => Number(await rpc<string>(anvil.rpcUrl, 'eth_getTransactionCount', [privateKeyToAccount(k).address, 'pending']))));
  const out: { hash: string; raw: Hex }[] = [];
  for (let i = 0; i < n; i++) {
    const a = i % keys.length;
    out.push(await signTx(keys[a]!, anvil.chainId, nonces[a]!++, i));
  }
  return out;
}

async function send(anvil: Anvil, raw: Hex): Promise<void> {
  await createWalletClient({ transport: http(anvil.rpcUrl) }).sendRawTransaction({ serializedTransaction: raw });
}

/** Mines everything pending so the next test starts from an empty pool. */
async function drainPool(anvil: Anvil): Promise<void> {
  await rpc(anvil.rpcUrl, 'evm_mine');
  const pool = await rpc<{ pending: Record<string, unknown> }>(anvil.rpcUrl, 'txpool_content');
  assert.equal(Object.keys(pool.pending).length, 0, 'pool empty');
}

function quantiles(xs: number[]): { p50: number; p99: number; max: number } {
  const s = [...xs].sort((a, b) => a - b);
  const at = (q: number) => s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? NaN;
  return { p50: at(0.5), p99: at(0.99), max: s[s.length - 1] ?? NaN };
}

/** A port nothing listens on (bound, then released). */
async function deadPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as AddressInfo;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

type Req = { id: number; method: string; params: unknown[] };

/** A scripted node: a real websocket server on 127.0.0.1 whose replies a test writes. */
class FakeNode {
  readonly wss: WebSocketServer;
  readonly requests: Req[] = [];
  readonly batches: Req[][] = [];
  clients: WebSocket[] = [];

  constructor(
    private readonly onRequest: (req: Req, ws: WebSocket) => unknown | undefined,
    options: { autoPong?: boolean } = {},
  ) {
    this.wss = new WebSocketServer({ host: '127.0.0.1', port: 0, autoPong: options.autoPong ?? true });
    this.wss.on('connection', (ws) => {
      this.clients.push(ws);
      ws.on('message', (data) => {
        const msg = JSON.parse(String(data)) as Req | Req[];
        if (Array.isArray(msg)) {
          this.batches.push(msg);
          const replies = msg.map((r) => this.reply(r, ws)).filter((r) => r !== undefined);
          if (replies.length > 0) ws.send(JSON.stringify(replies));
        } else {
          const r = this.reply(msg, ws);
          if (r !== undefined) ws.send(JSON.stringify(r));
        }
      });
    });
  }

  private reply(req: Req, ws: WebSocket): unknown {
    this.requests.push(req);
    const out = this.onRequest(req, ws);
    if (out === undefined) return undefined;
    if (typeof out === 'object' && out !== null && 'error' in out) return { jsonrpc: '2.0', id: req.id, ...out };
    return { jsonrpc: '2.0', id: req.id, result: out };
  }

  get url(): string {
    return `ws://127.0.0.1:${(this.wss.address() as AddressInfo).port}`;
  }

  ready(): Promise<void> {
    return new Promise((r) => (this.wss.address() ? r() : this.wss.once('listening', () => r())));
  }

  /** Sends a subscription notification to every client. */
  notify(subscription: string, result: unknown): void {
    for (const c of this.clients) c.send(JSON.stringify({ jsonrpc: '2.0', method: 'eth_subscription', params: { subscription, result } }));
  }

  sendRaw(data: string | Buffer, binary = false): void {
    for (const c of this.clients) c.send(data, { binary });
  }

  close(): Promise<void> {
    for (const c of this.wss.clients) c.terminate();
    return new Promise((r) => this.wss.close(() => r()));
  }
}

const sources: RpcWsSource[] = [];
/** A source that `after()` stops even when a test fails half-way. */
function source(sink: SourceSink, options: RpcWsSourceOptions, id = 0): RpcWsSource {
  const s = new RpcWsSource(id, options, sink);
  sources.push(s);
  return s;
}
after(async () => {
  await Promise.all(sources.map((s) => s.stop()));
});

const FAST_RETRY = { initialMs: 10, maxMs: 100, factor: 2 };

// ---- against a real anvil ----

describe('RpcWsSource against anvil', () => {
  let anvil: Anvil;
  before(async () => {
    anvil = await startAnvil({ noMining: true });
  });
  after(async () => {
    await anvil?.stop();
  });

  it('default: full objects, every tx exactly once with its hash and rpc object', async (t) => {
    const sink = new Recorder();
    const s = source(sink, { url: anvil.wsUrl });
    s.start();
    await until('pending subscription', () => sink.subscribedPending() === 1);
    const txs = await signTxs(anvil, 60);
    for (const tx of txs) await send(anvil, tx.raw);
    await until('all txs', () => txs.every((tx) => sink.counts.has(tx.hash)));
    // One mined block later nothing more can be in flight for these txs.
    await rpc(anvil.rpcUrl, 'evm_mine');
    await until('the block', () => sink.blocks.length >= 1);
    assert.equal(sink.txs.length, txs.length, 'no extra deliveries');
    for (const tx of txs) assert.equal(sink.counts.get(tx.hash), 1, tx.hash);
    for (const d of sink.txs) {
      assert.equal(d.raw, null);
      assert.ok(d.rpc);
      assert.equal(d.rpc.hash, d.hash);
      assert.match(d.hash, /^0x[0-9a-f]{64}$/);
      assert.ok(d.seenNs <= d.atNs);
    }
    assert.deepEqual(new Set(sink.txs.map((d) => d.rpc?.type)), new Set(['0x0', '0x1', '0x2']));
    const st = s.stats();
    assert.equal(st.mode, 'full');
    assert.equal(st.connected, true);
    assert.equal(st.txs, 60);
    assert.equal(st.fetches, 0);
    assert.equal(st.reconnects, 0);
    assert.deepEqual(st.badFrames, Object.fromEntries(BAD_FRAME_CODES.map((c) => [c, 0])));
    const q = quantiles(sink.txs.map((d) => (d.atNs - d.seenNs) / 1e3));
    t.diagnostic(`frame → sink.tx (µs, ${sink.txs.length} txs): p50 ${q.p50.toFixed(1)} p99 ${q.p99.toFixed(1)} max ${q.max.toFixed(1)}`);
    await s.stop();
    assert.equal(s.stats().connected, false);
    assert.deepEqual(sink.events.at(-1), { type: 'stopped' });
  });

  it('behavior: newHeads become block events with every field; a replaced head is flagged as a reorg', async () => {
    const sink = new Recorder();
    const s = source(sink, { url: anvil.wsUrl });
    s.start();
    await until('heads subscription', () => sink.of('subscribed').some((e) => e.stream === 'heads'));
    await drainPool(anvil);
    await until('the drain block', () => sink.blocks.length === 1);
    for (let i = 0; i < 3; i++) await rpc(anvil.rpcUrl, 'evm_mine');
    await until('three more blocks', () => sink.blocks.length === 4);
    for (const b of sink.blocks) {
      const node = await rpc<Record<string, string>>(anvil.rpcUrl, 'eth_getBlockByHash', [b.hash, false]);
      assert.deepEqual(b, {
        number: Number(node.number),
        hash: node.hash,
        parentHash: node.parentHash,
        timestamp: Number(node.timestamp),
        baseFeePerGas: BigInt(node.baseFeePerGas!),
        gasLimit: BigInt(node.gasLimit!),
        gasUsed: BigInt(node.gasUsed!),
        miner: node.miner!.toLowerCase(),
        prevRandao: node.mixHash,
        excessBlobGas: BigInt(node.excessBlobGas!),
        reorg: false,
      });
    }
    for (let i = 1; i < sink.blocks.length; i++) assert.equal(sink.blocks[i]!.parentHash, sink.blocks[i - 1]!.hash);
    const tip = sink.blocks.at(-1)!;
    // anvil_reorg replaces the last two blocks and announces the new ones.
    await rpc(anvil.rpcUrl, 'anvil_reorg', [2, []]);
    await until('replacement heads', () => sink.blocks.length === 6);
    const [first, second] = sink.blocks.slice(4) as [BlockEvent, BlockEvent];
    assert.equal(first.number, tip.number - 1);
    assert.notEqual(first.hash, sink.blocks[2]!.hash);
    assert.equal(first.parentHash, sink.blocks[1]!.hash);
    assert.equal(first.reorg, true, 'a lower head replaces announced blocks');
    assert.equal(second.number, tip.number);
    assert.equal(second.parentHash, first.hash);
    assert.equal(second.reorg, false, 'extends the new head');
    // A head at the same height with another hash is a reorg too.
    await rpc(anvil.rpcUrl, 'anvil_reorg', [1, []]);
    await until('same-height head', () => sink.blocks.length === 7);
    assert.equal(sink.blocks[6]!.number, tip.number);
    assert.equal(sink.blocks[6]!.reorg, true);
    assert.equal(s.stats().blocks, 7);
  });

  it('args: mode hashes delivers raw bytes whose keccak is the hash, each exactly once', async () => {
    const sink = new Recorder();
    const s = source(sink, { url: anvil.wsUrl, mode: 'hashes' });
    s.start();
    await until('pending subscription', () => sink.subscribedPending() === 1);
    assert.equal(sink.of('subscribed').find((e) => e.stream !== 'heads')?.stream, 'pending-hashes');
    const txs = await signTxs(anvil, 60);
    const firstSend = monoNs();
    for (const tx of txs) await send(anvil, tx.raw);
    await until('all txs', () => txs.every((tx) => sink.counts.has(tx.hash)));
    await rpc(anvil.rpcUrl, 'evm_mine');
    await until('the block', () => sink.blocks.length >= 1);
    const sent = new Map(txs.map((tx) => [tx.hash, tx.raw]));
    assert.equal(sink.txs.length, txs.length);
    for (const d of sink.txs) {
      assert.equal(sink.counts.get(d.hash), 1);
      assert.equal(d.rpc, null);
      assert.ok(d.raw instanceof Uint8Array);
      assert.equal(keccak256(d.raw), d.hash);
      assert.equal(Buffer.from(d.raw).toString('hex'), sent.get(d.hash)?.slice(2));
      // First seen is the announcement, before the fetch went out.
      assert.ok(d.seenNs >= firstSend && d.seenNs < d.atNs);
    }
    const st = s.stats();
    assert.equal(st.mode, 'hashes');
    assert.equal(st.fetches, 60);
    assert.equal(st.fetchErrors, 0);
    assert.equal(st.fetchMissing, 0);
    await drainPool(anvil);
  });

  for (const mode of ['full', 'hashes'] as const) {
    it(`behavior: across forced reconnects every tx arrives exactly once (${mode})`, async () => {
      await drainPool(anvil);
      const proxy = new TcpProxy(anvil.port);
      const port = await proxy.listen();
      try {
        const sink = new Recorder();
        const s = source(sink, { url: `ws://127.0.0.1:${port}`, mode, reconnect: FAST_RETRY });
        s.start();
        await until('pending subscription', () => sink.subscribedPending() === 1);
        const txs = await signTxs(anvil, 60);
        for (let i = 0; i < txs.length; i++) {
          if (i === 20) {
            // Down for a while: txs 20..29 can only come back through the backfill.
            proxy.refusing = true;
            proxy.cut();
            await until('disconnect seen', () => !s.stats().connected);
          }
          if (i === 30) proxy.refusing = false;
          if (i === 45) {
            // Once back, cut again mid-stream (txs keep coming) and let it reconnect at once.
            await until('resubscribed and backfilled after the outage', () => sink.subscribedPending() === 2 && sink.of('backfill').length === 1);
            proxy.cut();
          }
          await send(anvil, txs[i]!.raw);
          await sleep(2);
        }
        await until('all txs', () => txs.every((tx) => sink.counts.has(tx.hash)));
        await until('resubscribed and backfilled after the last cut', () => sink.subscribedPending() === 3 && sink.of('backfill').length === 2, 30_000, () => ({ stats: s.stats(), events: sink.events.map((e) => (e.type === 'error' ? e.error.message : e)) }));
        await rpc(anvil.rpcUrl, 'evm_mine');
        await until('the block', () => sink.blocks.length >= 1);
        for (const tx of txs) assert.equal(sink.counts.get(tx.hash), 1, tx.hash);
        assert.equal(sink.txs.length, txs.length, 'no extra deliveries');
        if (mode === 'hashes') for (const d of sink.txs) assert.equal(keccak256(d.raw!), d.hash);
        else for (const d of sink.txs) assert.equal(d.rpc?.hash, d.hash);
        const st = s.stats();
        assert.equal(st.reconnects, 2);
        assert.ok(st.backfilled >= 10, `backfilled ${st.backfilled}`);
        // Each backfill lists the whole pool (≥ 30, then ≥ 46 txs): each entry either was delivered or
        // in flight already (suppressed) or is delivered by the backfill.
        assert.ok(st.duplicatesSuppressed + st.backfilled >= 30 + 46, `suppressed ${st.duplicatesSuppressed} + backfilled ${st.backfilled}`);
        assert.ok(st.duplicatesSuppressed >= 10, `suppressed ${st.duplicatesSuppressed}`);
        assert.ok(sink.of('disconnected').length >= 2);
        assert.ok(sink.of('retry').length >= 2);
        assert.equal(sink.of('connected').filter((e) => e.reconnect).length, 2);
      } finally {
        await proxy.close();
        await drainPool(anvil);
      }
    });
  }

  it('error: a dead node is retried with backoff and reported; the source connects once it listens', async () => {
    const port = await deadPort();
    const sink = new Recorder();
    const s = source(sink, { url: `ws://127.0.0.1:${port}`, reconnect: { initialMs: 10, maxMs: 80, factor: 2 } });
    s.start();
    await until('retries', () => sink.of('retry').length >= 4);
    const st = s.stats();
    assert.equal(st.connected, false);
    assert.ok(st.connectAttempts >= 4);
    assert.match(st.lastError ?? '', /cannot connect: .*ECONNREFUSED/);
    const errors = sink.of('error');
    assert.ok(errors.length >= 4);
    assert.equal(errors[0]!.error.code, 'ORION_ERR_INGEST');
    const delays = sink.of('retry').map((e) => e.delayMs);
    // Jittered exponential: attempt n waits within [base/2, base], base = min(80, 10·2^(n-1)).
    delays.forEach((d, n) => {
      const base = Math.min(80, 10 * 2 ** n);
      assert.ok(d >= base / 2 && d <= base, `retry ${n + 1}: ${d} ms`);
    });
    // The node comes up on that port: the source connects by itself and delivers.
    const proxy = new TcpProxy(anvil.port);
    await proxy.listen(port);
    try {
      await until('pending subscription', () => sink.subscribedPending() === 1);
      const [tx] = await signTxs(anvil, 1);
      await send(anvil, tx!.raw);
      await until('the tx', () => sink.counts.get(tx!.hash) === 1);
      assert.equal(s.stats().connected, true);
      assert.equal(s.stats().reconnects, 0, 'a first connection is not a reconnect');
      await s.stop();
    } finally {
      await proxy.close();
      await drainPool(anvil);
    }
  });

  it('behavior: stop() leaves nothing running, connected or retrying (the process exits by itself)', async () => {
    const port = await deadPort();
    const module = new URL('../../../../src/actors/ingest/sources/rpc-ws.js', import.meta.url).href;
    const script = `
      import { RpcWsSource } from ${JSON.stringify(module)};
      const stopAt = (n) => ({ tx() {}, block() {}, status(_id, e) { if (e.type === n.type && (n.when?.(e) ?? true)) n.act(); } });
      const dead = new RpcWsSource(0, { url: 'ws://127.0.0.1:${port}', reconnect: { initialMs: 5, maxMs: 20 } },
        stopAt({ type: 'retry', when: (e) => e.attempt === 3, act: () => dead.stop().then(() => console.log('dead stopped')) }));
      const live = new RpcWsSource(1, { url: ${JSON.stringify(anvil.wsUrl)}, heartbeatMs: 50 },
        stopAt({ type: 'subscribed', when: (e) => e.stream !== 'heads', act: () => setTimeout(() => live.stop().then(() => console.log('live stopped')), 200) }));
      // Stopped from inside its first status event, while the socket is still opening.
      const early = new RpcWsSource(2, { url: 'ws://127.0.0.1:${port}' },
        stopAt({ type: 'connecting', act: () => early.stop().then(() => console.log('early stopped')) }));
      dead.start();
      live.start();
      early.start();
    `;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (out += c.toString()));
    const code = await new Promise<number | null>((resolve) => {
      const hang = setTimeout(() => {
        child.kill('SIGKILL');
        resolve(null);
      }, 30_000);
      child.on('exit', (c) => {
        clearTimeout(hang);
        resolve(c);
      });
    });
    assert.equal(code, 0, `child exited by itself:\n${out}`);
    assert.match(out, /dead stopped/);
    assert.match(out, /live stopped/);
    assert.match(out, /early stopped/);
  });
});

// ---- against a scripted node ----

const PENDING = '0x00000000000000000000000000000a11';
const HEADS = '0x00000000000000000000000000000b22';

const HEAD = {
  number: '0x10',
  hash: `0x${'ab'.repeat(32)}`,
  parentHash: `0x${'cd'.repeat(32)}`,
  timestamp: '0x6553f100',
  baseFeePerGas: '0x3b9aca00',
  gasLimit: '0x1c9c380',
  gasUsed: '0x5208',
  miner: '0x95222290DD7278Aa3Ddd389Cc1E1d165CC4BAfe5',
  mixHash: `0x${'ef'.repeat(32)}`,
  excessBlobGas: null,
};

const txObject = (hash: string) => ({ hash, type: '0x2', nonce: '0x0', input: '0x', to: null, from: `0x${'11'.repeat(20)}` });

const subscribeOk = (req: Req): unknown => {
  if (req.method !== 'eth_subscribe') return undefined;
  return req.params[0] === 'newHeads' ? HEADS : PENDING;
};

describe('RpcWsSource against a misbehaving node', () => {
  const nodes: FakeNode[] = [];
  const node = async (onRequest: (req: Req, ws: WebSocket) => unknown, options?: { autoPong?: boolean }) => {
    const n = new FakeNode(onRequest, options);
    nodes.push(n);
    await n.ready();
    return n;
  };
  after(async () => {
    await Promise.all(nodes.map((n) => n.close()));
  });

  it('error: garbage frames are counted by code and reported; the good frames after them are delivered', async () => {
    const n = await node(subscribeOk);
    const sink = new Recorder();
    const s = source(sink, { url: n.url, maxFrameBytes: 4096 });
    s.start();
    await until('both subscriptions', () => sink.of('subscribed').length === 2);
    const good = `0x${'01'.repeat(32)}`;
    n.sendRaw('this is not json');
    n.sendRaw(Buffer.from([0xff, 0xfe, 0x00, 0x7b]), true);
    // Valid JSON, a valid tx even, but too large: dropped unparsed.
    n.notify(PENDING, { ...txObject(`0x${'02'.repeat(32)}`), input: `0x${'00'.repeat(4096)}` });
    n.notify('0xdeadbeef', txObject(`0x${'03'.repeat(32)}`));
    n.notify(PENDING, { ...txObject('0x1234') });
    n.notify(PENDING, 42);
    n.notify(PENDING, [txObject(`0x${'04'.repeat(32)}`)]);
    n.notify(HEADS, { ...HEAD, gasUsed: undefined });
    n.sendRaw(JSON.stringify({ jsonrpc: '2.0', id: 999, error: { code: -32000, message: 'boom' } }));
    n.sendRaw(JSON.stringify({ jsonrpc: '2.0', id: 998, result: '0x' }));
    n.sendRaw('42');
    n.notify(PENDING, txObject(good));
    n.notify(HEADS, HEAD);
    await until('the good head', () => sink.blocks.length === 1);
    assert.deepEqual(s.stats().badFrames, {
      'not-json': 2,
      oversized: 1,
      'unknown-subscription': 1,
      'malformed-tx': 3,
      'malformed-head': 1,
      'rpc-error': 1,
      'unexpected-frame': 2,
    });
    assert.equal(sink.of('bad-frame').length, 11);
    assert.deepEqual([...sink.counts.keys()], [good]);
    assert.deepEqual(sink.txs[0]!.rpc, txObject(good));
    assert.deepEqual(sink.blocks[0], {
      number: 16,
      hash: HEAD.hash,
      parentHash: HEAD.parentHash,
      timestamp: 0x6553f100,
      baseFeePerGas: 1_000_000_000n,
      gasLimit: 30_000_000n,
      gasUsed: 21_000n,
      miner: HEAD.miner.toLowerCase(),
      prevRandao: HEAD.mixHash,
      excessBlobGas: null,
      reorg: false,
    });
    const st = s.stats();
    assert.equal(st.connected, true);
    assert.equal(st.connectAttempts, 1);
    assert.equal(st.frames, 2 + 13);
    assert.match(st.lastError ?? '', /^unexpected-frame: /);
  });

  it('behavior: a node that refuses full objects → hash mode; no eth_getRawTransactionByHash → eth_getTransactionByHash; null counted as missing', async () => {
    const [h1, h2, h3, h4] = ['a1', 'a2', 'a3', 'a4'].map((b) => `0x${b.repeat(32)}`) as [string, string, string, string];
    const n = await node((req) => {
      if (req.method === 'eth_subscribe') {
        if (req.params[1] === true) return { error: { code: -32602, message: 'full transactions not supported' } };
        return subscribeOk(req);
      }
      if (req.method === 'eth_getRawTransactionByHash') return { error: { code: -32601, message: 'the method eth_getRawTransactionByHash does not exist/is not available' } };
      if (req.method === 'eth_getTransactionByHash') return req.params[0] === h3 ? null : txObject(req.params[0] as string);
      return undefined;
    });
    const sink = new Recorder();
    // fetchBatch 3 with a long window: the first batch goes out exactly when the third hash arrives.
    const s = source(sink, { url: n.url, fetchBatch: 3, fetchDelayMs: 60_000 });
    s.start();
    await until('hash subscription', () => sink.of('subscribed').some((e) => e.stream === 'pending-hashes'));
    assert.equal(s.stats().mode, 'hashes');
    assert.match(sink.of('mode')[0]!.reason, /refused full-object subscriptions/);
    n.notify(PENDING, h1);
    n.notify(PENDING, h2);
    n.notify(PENDING, h3);
    await until('two txs and one missing', () => sink.txs.length === 2 && s.stats().fetchMissing === 1);
    assert.deepEqual(n.batches[0]!.map((r) => [r.method, r.params[0]]), [h1, h2, h3].map((h) => ['eth_getRawTransactionByHash', h]));
    for (const d of sink.txs) {
      assert.equal(d.raw, null);
      assert.deepEqual(d.rpc, txObject(d.hash));
    }
    assert.deepEqual(new Set(sink.counts.keys()), new Set([h1, h2]));
    // From now on objects are fetched directly, and a repeated announcement is not fetched again.
    n.notify(PENDING, h1);
    n.notify(PENDING, h4);
    n.notify(PENDING, `0x${'a5'.repeat(32)}`);
    n.notify(PENDING, `0x${'a6'.repeat(32)}`);
    await until('the second batch', () => sink.txs.length === 5);
    assert.deepEqual(n.batches.at(-1)!.map((r) => r.method), ['eth_getTransactionByHash', 'eth_getTransactionByHash', 'eth_getTransactionByHash']);
    const st = s.stats();
    assert.equal(st.duplicatesSuppressed, 1);
    assert.equal(st.fetches, 3 + 3 + 3);
    assert.equal(st.fetchErrors, 0);
    assert.equal(st.fetchMissing, 1);
    // The refused subscription and three raw fetches were error replies.
    assert.equal(st.badFrames['rpc-error'], 4);
    assert.equal(sink.counts.get(h1), 1);
  });

  it('behavior: a node that sends hashes on the full-object subscription → hash mode with raw fetches', async () => {
    const { raw, hash } = await signTx(ANVIL_KEYS[0]!, 1, 7, 2);
    const n = await node((req) => {
      if (req.method === 'eth_getRawTransactionByHash') return req.params[0] === hash ? raw : null;
      return subscribeOk(req);
    });
    const sink = new Recorder();
    const s = source(sink, { url: n.url });
    s.start();
    await until('full subscription', () => sink.of('subscribed').some((e) => e.stream === 'pending-full'));
    n.notify(PENDING, hash.toUpperCase().replace('0X', '0x'));
    await until('the tx', () => sink.txs.length === 1);
    assert.equal(sink.txs[0]!.hash, hash);
    assert.equal(keccak256(sink.txs[0]!.raw!), hash);
    assert.equal(s.stats().mode, 'hashes');
    assert.match(sink.of('mode')[0]!.reason, /sends hashes/);
  });

  it('args: mode full refuses hash announcements and does not fall back', async () => {
    const n = await node((req) => (req.method === 'eth_subscribe' && req.params[1] === true ? { error: { code: -32602, message: 'nope' } } : subscribeOk(req)));
    const sink = new Recorder();
    const s = source(sink, { url: n.url, mode: 'full' });
    s.start();
    await until('refusal', () => sink.of('error').length === 1);
    assert.match(sink.of('error')[0]!.error.message, /subscribe newPendingTransactions refused/);
    assert.equal(s.stats().mode, 'full');
    assert.equal(n.requests.filter((r) => r.method === 'eth_subscribe').length, 2);
  });

  it('behavior: notifications that overtake their subscribe reply are kept, not dropped', async () => {
    const hash = `0x${'c1'.repeat(32)}`;
    const n = await node((req, ws) => {
      if (req.method !== 'eth_subscribe') return undefined;
      if (req.params[0] === 'newPendingTransactions') {
        // The notification goes out before the reply, as a node with concurrent handlers may do.
        ws.send(JSON.stringify({ jsonrpc: '2.0', method: 'eth_subscription', params: { subscription: PENDING, result: txObject(hash) } }));
      }
      return subscribeOk(req);
    });
    const sink = new Recorder();
    const s = source(sink, { url: n.url });
    s.start();
    await until('the tx', () => sink.txs.length === 1);
    assert.equal(sink.txs[0]!.hash, hash);
    assert.equal(s.stats().badFrames['unknown-subscription'], 0);
  });

  it('error: a node that stops answering (no pong, no frames) is dropped and reconnected', async () => {
    const n = await node(subscribeOk, { autoPong: false });
    const sink = new Recorder();
    const s = source(sink, { url: n.url, heartbeatMs: 50, reconnect: FAST_RETRY });
    s.start();
    await until('a second connection', () => s.stats().reconnects >= 1 && sink.subscribedPending() >= 2);
    assert.ok(sink.of('error').some((e) => /node unresponsive/.test(e.error.message)));
    assert.ok(sink.of('disconnected').length >= 1);
  });

  it('error: a frame above the hard limit closes the connection, is counted, and the source reconnects', async () => {
    const n = await node(subscribeOk);
    const sink = new Recorder();
    const s = source(sink, { url: n.url, maxFrameBytes: 1024, reconnect: FAST_RETRY });
    s.start();
    await until('subscribed', () => sink.subscribedPending() === 1);
    n.sendRaw('x'.repeat(4 * 1024 + 1));
    await until('reconnected', () => s.stats().reconnects === 1 && sink.subscribedPending() === 2);
    assert.equal(s.stats().badFrames.oversized, 1);
  });

  it('behavior: without txpool_content the backfill reads the pending block; backfillOnReconnect false skips it', async () => {
    const [a, b, c] = ['b1', 'b2', 'b3'].map((x) => `0x${x.repeat(32)}`) as [string, string, string];
    const n = await node((req) => {
      if (req.method === 'eth_subscribe') return subscribeOk(req);
      if (req.method === 'txpool_content') return { error: { code: -32601, message: 'the method txpool_content does not exist/is not available' } };
      if (req.method === 'eth_getBlockByNumber') return { ...HEAD, transactions: [txObject(a), txObject(b), { hash: 'junk' }] };
      return undefined;
    });
    const sink = new Recorder();
    const s = source(sink, { url: n.url, reconnect: FAST_RETRY });
    s.start();
    await until('subscribed', () => sink.subscribedPending() === 1);
    n.notify(PENDING, txObject(a));
    await until('a', () => sink.counts.has(a));
    n.clients.at(-1)!.terminate();
    await until('backfill', () => sink.of('backfill').length === 1);
    assert.deepEqual(sink.of('backfill')[0], { type: 'backfill', method: 'eth_getBlockByNumber', txs: 1, duplicates: 1 });
    assert.deepEqual([...sink.counts.entries()], [[a, 1], [b, 1]]);
    assert.equal(s.stats().backfilled, 1);
    assert.equal(s.stats().badFrames['malformed-tx'], 1, 'the junk entry');
    assert.deepEqual(n.requests.filter((r) => r.method !== 'eth_subscribe').map((r) => r.method), ['txpool_content', 'eth_getBlockByNumber']);

    await s.stop();
    const quiet = new Recorder();
    const s2 = source(quiet, { url: n.url, reconnect: FAST_RETRY, backfillOnReconnect: false });
    const before = n.requests.length;
    s2.start();
    await until('subscribed', () => quiet.subscribedPending() === 1);
    n.clients.at(-1)!.terminate();
    await until('resubscribed', () => quiet.subscribedPending() === 2);
    n.notify(PENDING, txObject(c));
    await until('c', () => quiet.counts.has(c));
    assert.equal(s2.stats().reconnects, 1);
    assert.deepEqual(n.requests.slice(before).map((r) => r.method), Array(4).fill('eth_subscribe'));
    assert.equal(quiet.of('backfill').length, 0);
  });

  it('error: a fetch the node never answers expires, is counted, and the hash can be fetched again', async () => {
    const hash = `0x${'d1'.repeat(32)}`;
    let answer = false;
    const n = await node((req) => {
      if (req.method === 'eth_getRawTransactionByHash') return answer ? '0x02c0' : undefined;
      return subscribeOk(req);
    });
    const sink = new Recorder();
    const s = source(sink, { url: n.url, mode: 'hashes', heartbeatMs: 0, requestTimeoutMs: 50 });
    s.start();
    await until('subscribed', () => sink.subscribedPending() === 1);
    n.notify(PENDING, hash);
    await until('the expiry', () => s.stats().fetchErrors === 1);
    assert.ok(sink.of('error').some((e) => /fetch timed out/.test(e.error.message)));
    assert.equal(s.stats().connected, true, 'an unanswered fetch does not drop a live connection');
    answer = true;
    n.notify(PENDING, hash);
    await until('the tx', () => sink.txs.length === 1);
    assert.deepEqual([...sink.txs[0]!.raw!], [0x02, 0xc0]);
    assert.equal(s.stats().fetches, 2);
    assert.equal(s.stats().duplicatesSuppressed, 0);
  });

  it('args: invalid options throw a TypeError/RangeError naming the field', () => {
    assert.throws(() => resolveRpcWsOptions({ url: 'http://127.0.0.1:8545' }), { name: 'TypeError', message: /url/ });
    assert.throws(() => resolveRpcWsOptions({ url: 'ws://x', mode: 'fast' as 'full' }), { name: 'TypeError', message: /mode/ });
    assert.throws(() => resolveRpcWsOptions({ url: 'ws://x', fetchBatch: 0 }), { name: 'RangeError', message: /fetchBatch/ });
    assert.throws(() => resolveRpcWsOptions({ url: 'ws://x', fetchDelayMs: -1 }), { name: 'RangeError', message: /fetchDelayMs/ });
    assert.throws(() => resolveRpcWsOptions({ url: 'ws://x', recentHashes: 1.5 }), { name: 'RangeError', message: /recentHashes/ });
    assert.throws(() => resolveRpcWsOptions({ url: 'ws://x', reconnect: { initialMs: 500, maxMs: 100 } }), { name: 'RangeError', message: /reconnect\.maxMs/ });
    assert.throws(() => resolveRpcWsOptions({ url: 'ws://x', reconnect: { factor: 0.5 } }), { name: 'RangeError', message: /reconnect\.factor/ });
    assert.throws(() => resolveRpcWsOptions({ url: 'ws://x', maxFrameBytes: 10 }), { name: 'RangeError', message: /maxFrameBytes/ });
    const d = resolveRpcWsOptions({ url: 'wss://user:secret@node.example:8546/v2/KEY' });
    assert.equal(d.name, 'rpc-ws:node.example:8546');
    assert.equal(d.mode, 'auto');
    assert.equal(d.fetchBatch, 100);
    assert.equal(d.fetchDelayMs, 2);
    assert.equal(d.recentHashes, 65_536);
    assert.equal(d.backfillOnReconnect, true);
    assert.ok(Object.isFrozen(d));
  });

  it('behavior: status events name the endpoint without path or credentials', async () => {
    const n = await node(subscribeOk);
    const sink = new Recorder();
    const s = source(sink, { url: `${n.url.replace('ws://', 'ws://user:secret@')}/v2/APIKEY` });
    s.start();
    await until('connected', () => sink.of('connected').length === 1);
    assert.equal(sink.of('connected')[0]!.endpoint, n.url);
    assert.doesNotMatch(JSON.stringify(sink.events), /secret|APIKEY/);
    await s.stop();
    assert.throws(() => s.start(), { code: 'ORION_ERR_INGEST' });
  });
});
