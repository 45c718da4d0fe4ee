import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import WebSocket from 'ws';
import type { Opportunity } from '../../src/actors/scorer/opportunity.js';
import { Gateway, type GatewayAddress, type StatusView } from '../../src/gateway/gateway.js';
import type { GatewayConfig } from '../../src/gateway/gateway-config.js';
import { EXPOSITION_CONTENT_TYPE } from '../../src/gateway/prometheus.js';
import { toJsonValue } from '../../src/messages/json.js';
import type { DecodedTx } from '../../src/messages/schema.js';
import { type LogLevel, createLogger } from '../../src/runtime/log.js';
import { testBlock } from '../support/records.js';
import { parseExposition, samples } from './exposition.js';
import { KEYS, POOL_1, POOL_2, POOL_3, TOKEN_A, TOKEN_B, WETH, addr, gatewayConfig, testOpportunity } from './fixtures.js';
import { type Frame, StreamClient, refusedUpgrade } from './stream-client.js';

/**
 * The gateway on its own (no engine), with real `ws` clients: authentication per route and role,
 * every error frame, the per-key rate limit, repeat offenders, slow consumers, msgpack, filtered
 * subscriptions and graceful shutdown. The tests publish into it directly, on the same thread, so
 * a ping round trip afterwards proves each client has everything it was sent.
 */

const log = createLogger('gateway', (process.env.TEST_LOG as LogLevel | undefined) ?? 'silent');
const open: { gw: Gateway; clients: StreamClient[] }[] = [];

async function startGateway(fields: Partial<GatewayConfig> = {}): Promise<{ gw: Gateway; at: GatewayAddress; connect: (key?: string, opts?: Parameters<typeof StreamClient.connect>[1]) => Promise<StreamClient> }> {
  const gw = new Gateway({ config: gatewayConfig(fields), log });
  const at = await gw.listen();
  const entry = { gw, clients: [] as StreamClient[] };
  open.push(entry);
  const connect = async (key: string = KEYS.viewer, opts: Parameters<typeof StreamClient.connect>[1] = {}) => {
    const c = await StreamClient.connect(at.streamUrl, { key, ...opts });
    entry.clients.push(c);
    return c;
  };
  return { gw, at, connect };
}

after(async () => {
  for (const { gw, clients } of open) {
    for (const c of clients) c.terminate();
    await gw.close();
  }
});

/** An HTTP request to the gateway: status, content type and body text. */
async function http(at: GatewayAddress, path: string, opts: { key?: string; method?: string; via?: 'header' | 'query' } = {}): Promise<{ status: number; type: string | null; text: string; json: () => Record<string, unknown> }> {
  const url = new URL(path, at.url);
  if (opts.key !== undefined && opts.via === 'query') url.searchParams.set('token', opts.key);
  const headers: Record<string, string> = opts.key !== undefined && opts.via !== 'query' ? { authorization: `Bearer ${opts.key}` } : {};
  const res = await fetch(url, { method: opts.method ?? 'GET', headers });
  const text = await res.text();
  return { status: res.status, type: res.headers.get('content-type'), text, json: () => JSON.parse(text) as Record<string, unknown> };
}

/** The frames a client received after index `from`, without hello. */
const since = (c: StreamClient, from: number): Frame[] => c.frames.slice(from);

/** Subscribes and checks the `subscribed` reply. */
async function subscribe(c: StreamClient, topics: string[], filter?: Record<string, unknown>): Promise<Frame> {
  const r = await c.request({ op: 'subscribe', topics, ...(filter === undefined ? {} : { filter }) });
  assert.equal(r.type, 'subscribed', JSON.stringify(r));
  return r;
}

/** A decoded transaction as the decoder emits it (bytes and bigints included). */
function testTx(n: number): DecodedTx {
  return {
    hash: `0x${n.toString(16).padStart(64, '0')}`,
    type: 2,
    chainId: 31337n,
    nonce: BigInt(n),
    from: addr(0xf00),
    to: addr(0x70),
    value: 10n ** 30n + 1n,
    gas: 21000n,
    gasPrice: null,
    maxFeePerGas: 3n * 10n ** 9n,
    maxPriorityFeePerGas: 10n ** 9n,
    maxFeePerBlobGas: null,
    input: new Uint8Array([0xa9, 0x05, 0x9c, 0xbb, 0, 1]),
    accessList: [],
    blobVersionedHashes: null,
    authorizationList: null,
    v: 1n,
    r: 2n ** 255n,
    s: 12345n,
    size: 110,
    raw: new Uint8Array([2, 0xf8, 0x6d]),
    firstSeenNs: 1.5e15,
    source: 0,
    hashMismatch: false,
    intent: null,
  };
}

describe('Gateway: authentication and roles', () => {
  let gw: Gateway;
  let at: GatewayAddress;
  let connect: Awaited<ReturnType<typeof startGateway>>['connect'];
  before(async () => {
    ({ gw, at, connect } = await startGateway());
  });

  it('error: a stream upgrade without a key, or with a wrong one, is refused with 401', async () => {
    const none = await refusedUpgrade(at.streamUrl);
    assert.equal(none.status, 401);
    assert.equal(none.body.error, 'missing-key');
    assert.equal(none.headers['www-authenticate'], 'Bearer realm="orion"');
    const bad = await refusedUpgrade(at.streamUrl, { key: `${KEYS.viewer}x` });
    assert.equal(bad.status, 401);
    assert.equal(bad.body.error, 'bad-key');
    assert.ok(!JSON.stringify(bad.body).includes(KEYS.viewer), 'the answer does not echo the key');
    const badQuery = await refusedUpgrade(at.streamUrl, { key: 'not-a-key-0000000000', via: 'query' });
    assert.equal(badQuery.status, 401);
    assert.equal(badQuery.body.error, 'bad-key');
    assert.equal(gw.figures().clients, 0);
    assert.deepEqual(gw.figures().refused, { 'missing-key': 1, 'bad-key': 2 });
  });

  it('behavior: a key in the Authorization header or in ?token= opens the stream; hello names the role and encoding', async () => {
    const viewer = await connect(KEYS.viewer);
    const hello = viewer.frames[0]!;
    assert.equal(hello.type, 'hello');
    assert.equal(hello.role, 'viewer');
    assert.equal(hello.encoding, 'json');
    assert.deepEqual(hello.topics, ['opportunities', 'txs', 'blocks', 'stats', 'submissions']);
    assert.equal(hello.maxFrameBytes, gw.config.maxFrameBytes);
    assert.equal(typeof hello.client, 'number');
    const admin = await connect(KEYS.admin, { via: 'query' });
    assert.equal(admin.frames[0]!.role, 'admin');
    assert.notEqual(admin.frames[0]!.client, hello.client);
    assert.equal(gw.figures().clients, 2);
    await viewer.close();
    await admin.close();
  });

  it('error: an unknown encoding is refused with 400', async () => {
    const r = await refusedUpgrade(at.streamUrl, { key: KEYS.viewer, query: 'encoding=xml' });
    assert.equal(r.status, 400);
    assert.equal(r.body.error, 'bad-encoding');
  });

  it('behavior: each HTTP route answers by role (401 without or with a bad key, 403 below its role)', async () => {
    const table: [string, string, Record<string, number>][] = [
      // method, path, status by key (none, bad, viewer, operator, admin)
      ['GET', '/health', { none: 200, bad: 200, viewer: 200, operator: 200, admin: 200 }],
      ['GET', '/metrics', { none: 401, bad: 401, viewer: 403, operator: 200, admin: 200 }],
      ['GET', '/v1/status', { none: 401, bad: 401, viewer: 200, operator: 200, admin: 200 }],
      ['GET', '/', { none: 401, bad: 401, viewer: 200, operator: 200, admin: 200 }],
      // No engine behind this gateway: an admin gets 409.
      ['POST', '/v1/admin/restart?actor=scorer', { none: 401, bad: 401, viewer: 403, operator: 403, admin: 409 }],
    ];
    const keys: Record<string, string | undefined> = { none: undefined, bad: 'wrong-key-0000000000000', viewer: KEYS.viewer, operator: KEYS.operator, admin: KEYS.admin };
    for (const [method, path, want] of table) {
      for (const [who, status] of Object.entries(want)) {
        for (const via of ['header', 'query'] as const) {
          const r = await http(at, path, { method, key: keys[who], via });
          assert.equal(r.status, status, `${method} ${path} as ${who} via ${via}: ${r.text.slice(0, 200)}`);
          if (status === 401) assert.equal(r.json().error, who === 'none' ? 'missing-key' : 'bad-key');
          if (status === 403) assert.equal(r.json().error, 'forbidden');
        }
      }
    }
    const refused = gw.figures().refused;
    assert.ok(refused.role! >= 2 * 3 && refused['missing-key']! >= 2 * 4, JSON.stringify(refused));
  });

  it('behavior: routes answer with their content types; /metrics parses as Prometheus text', async () => {
    const m = await http(at, '/metrics', { key: KEYS.operator });
    assert.equal(m.type, EXPOSITION_CONTENT_TYPE);
    const f = parseExposition(m.text);
    assert.ok(samples(f, 'orion_http_refused_total').get('{reason="role"}')! > 0);
    assert.ok(!f.has('orion_actor_up'), 'no engine, no actors');
    const s = await http(at, '/v1/status', { key: KEYS.viewer });
    assert.equal(s.type, 'application/json');
    const status = s.json() as unknown as StatusView;
    assert.equal(status.health.status, 'ok');
    const page = await http(at, '/', { key: KEYS.viewer, via: 'query' });
    assert.equal(page.type, 'text/html; charset=utf-8');
    assert.match(page.text, /<title>Orion status<\/title>/);
    const h = await http(at, '/health');
    assert.equal(h.type, 'application/json');
    assert.deepEqual({ ...h.json(), uptimeSec: 0, secp256k1: null }, { status: 'ok', problems: [], actors: {}, node: { sources: {}, headBlock: null, headAgeMs: null }, submitter: null, secp256k1: null, clients: 0, uptimeSec: 0 });
  });

  it('error: an unknown route is 404 naming the routes; the admin route checks the actor name', async () => {
    const r = await http(at, '/v2/stream', { key: KEYS.admin });
    assert.equal(r.status, 404);
    assert.equal(r.json().error, 'not-found');
    assert.match(String(r.json().message), /GET \/v1\/stream/);
    const get = await http(at, '/v1/admin/restart?actor=scorer', { key: KEYS.admin });
    assert.equal(get.status, 404, 'restart is POST only');
  });
});

describe('Gateway: bad input', () => {
  it('error: each kind of bad frame gets its error frame (with the op’s id when it had one); the socket and other clients keep working', async () => {
    const { gw, connect } = await startGateway({ maxErrors: 100, opsBurst: 1000, maxFrameBytes: 1024 });
    const bystander = await connect(KEYS.viewer2);
    await subscribe(bystander, ['opportunities']);
    const c = await connect();
    const cases: [string | Buffer, string, unknown][] = [
      ['not json', 'bad-json', undefined],
      [Buffer.from([0xff, 0xfe, 0x00]), 'bad-json', undefined],
      ['[1,2]', 'bad-request', undefined],
      ['{"op":"ping","id":{"x":1}}', 'bad-request', undefined],
      [JSON.stringify({ id: 5, topics: ['txs'] }), 'bad-request', 5],
      [JSON.stringify({ op: 'subscribe', id: 6, topics: [] }), 'bad-request', 6],
      [JSON.stringify({ op: 'publish', id: 7 }), 'unknown-op', 7],
      [JSON.stringify({ op: 'subscribe', id: 'u', topics: ['opportunities', 'mempool'] }), 'unknown-topic', 'u'],
      [JSON.stringify({ op: 'unsubscribe', id: 8, topics: ['mempool'] }), 'unknown-topic', 8],
      [JSON.stringify({ op: 'subscribe', id: 9, topics: ['opportunities'], filter: { kinds: ['liquidation'] } }), 'bad-filter', 9],
      [JSON.stringify({ op: 'subscribe', id: 10, topics: ['opportunities'], filter: { minNetProfitWei: 1 } }), 'bad-filter', 10],
      [JSON.stringify({ op: 'subscribe', id: 11, topics: ['blocks'], filter: { includeRejected: true } }), 'bad-filter', 11],
      ['x'.repeat(1025), 'frame-too-large', undefined],
      [JSON.stringify({ op: 'ping', id: 12, pad: 'x'.repeat(1100) }), 'frame-too-large', undefined],
    ];
    const want: Record<string, number> = {};
    for (const [frame, code, id] of cases) {
      const from = c.frames.length;
      c.send(frame);
      const f = await c.waitFor(() => true, `error frame for ${String(frame).slice(0, 40)}`, 5000, from);
      const expected: Record<string, unknown> = { type: 'error', code, message: f.message };
      if (id !== undefined) expected.id = id;
      assert.deepEqual(f, expected, `answer to ${String(frame).slice(0, 60)}`);
      assert.ok(typeof f.message === 'string' && f.message.length > 0);
      want[code] = (want[code] ?? 0) + 1;
      // Nothing but the error frame came back.
      await c.sync();
      assert.equal(c.frames.length, from + 2);
    }
    assert.match(c.frames.find((f) => f.code === 'frame-too-large')!.message!, /1025 bytes exceeds the 1024-byte limit/);
    // The socket still works: a valid subscribe goes through and nothing from the refused ones stuck.
    const sub = await subscribe(c, ['blocks']);
    assert.deepEqual(sub.topics, ['blocks']);
    assert.deepEqual(gw.figures().errorFrames, want);
    // The bystander was served throughout.
    const opp = testOpportunity();
    gw.publishOpportunity(opp);
    await bystander.sync();
    assert.deepEqual(bystander.opportunityIds(), [opp.id]);
    assert.equal(bystander.ofType('error').length, 0);
  });

  it('error: a frame far beyond maxFrameBytes (past the transport limit) closes only that socket', async () => {
    const { gw, connect } = await startGateway({ maxErrors: 100, maxFrameBytes: 1024 });
    const bystander = await connect(KEYS.viewer2);
    await subscribe(bystander, ['opportunities']);
    const c = await connect();
    c.send('x'.repeat(1024 + 64 * 1024 + 1));
    const closed = await c.closed;
    // uWS drops the connection (1006, no close frame) or closes with 1009 (message too big).
    assert.ok(closed.code === 1006 || closed.code === 1009, `closed ${closed.code} ${closed.reason}`);
    assert.equal(gw.figures().clients, 1);
    const opp = testOpportunity();
    gw.publishOpportunity(opp);
    await bystander.sync();
    assert.deepEqual(bystander.opportunityIds(), [opp.id]);
  });

  it('behavior: ops beyond the per-key rate get rate-limited error frames; the bucket is shared by the key’s sockets, other keys are unaffected', async () => {
    const { gw, connect } = await startGateway({ opsPerSecond: 1, opsBurst: 4, maxErrors: 100 });
    const a = await connect(KEYS.viewer);
    const b = await connect(KEYS.viewer);
    const other = await connect(KEYS.viewer2);
    const t0 = performance.now();
    for (let i = 0; i < 3; i++) assert.equal((await a.request({ op: 'ping' })).type, 'pong');
    assert.equal((await b.request({ op: 'ping' })).type, 'pong');
    // The key's 4-op burst is spent across both sockets (1 op/s refills it; allow for a slow machine).
    const refill = () => Math.floor((performance.now() - t0) / 1000);
    if (refill() === 0) {
      for (const c of [b, a]) {
        const from = c.frames.length;
        c.send({ op: 'ping', id: 'flood' });
        const f = await c.waitFor(() => true, 'rate-limited', 5000, from);
        if (refill() > 0) break;
        assert.equal(f.type, 'error');
        assert.equal(f.code, 'rate-limited');
        assert.equal(f.id, undefined, 'the op is refused before it is read');
        assert.match(f.message!, /more than 1 ops\/s \(burst 4\) for key viewer/);
      }
    }
    assert.equal((await other.request({ op: 'ping' })).type, 'pong', 'another key has its own bucket');
    // Tokens come back at opsPerSecond.
    await new Promise((r) => setTimeout(r, 1100));
    assert.equal((await a.request({ op: 'ping' })).type, 'pong');
    assert.ok((gw.figures().errorFrames['rate-limited'] ?? 0) <= 2);
  });

  it('behavior: a flood gets exactly its burst served, the rest rate-limited, and the socket is closed (1008) as a repeat offender', async () => {
    const { gw, connect } = await startGateway({ opsPerSecond: 1, opsBurst: 3, maxErrors: 5 });
    const bystander = await connect(KEYS.viewer2);
    await subscribe(bystander, ['opportunities']);
    const c = await connect(KEYS.admin);
    const t0 = performance.now();
    for (let i = 0; i < 30; i++) c.send({ op: 'ping', id: i });
    const closed = await c.closed;
    const refilled = Math.floor((performance.now() - t0) / 1000);
    const pongs = c.ofType('pong');
    const errors = c.ofType('error');
    assert.ok(pongs.length >= 3 && pongs.length <= 3 + refilled, `${pongs.length} pongs`);
    assert.deepEqual(pongs.slice(0, 3).map((f) => f.id), [0, 1, 2]);
    assert.equal(errors.length, 5, 'replies stop at the close');
    assert.ok(errors.every((f) => f.code === 'rate-limited'));
    assert.equal(closed.code, 1008);
    assert.equal(closed.reason, 'too many errors (5 in 10000 ms; last: rate-limited)');
    assert.equal(gw.figures().errorFrames.closed, 1);
    assert.equal(gw.figures().clients, 1);
    const opp = testOpportunity();
    gw.publishOpportunity(opp);
    await bystander.sync();
    assert.deepEqual(bystander.opportunityIds(), [opp.id]);
  });

  it('behavior: maxErrors error frames within errorWindowMs close the socket with 1008 and the reason; other clients keep being served', async () => {
    const { gw, connect } = await startGateway({ maxErrors: 3, errorWindowMs: 60_000 });
    const bystander = await connect(KEYS.viewer);
    await subscribe(bystander, ['opportunities']);
    const c = await connect(KEYS.viewer);
    c.send('{');
    c.send(JSON.stringify({ op: 'nope', id: 1 }));
    c.send('{');
    // Sent after the third error: never answered.
    c.send(JSON.stringify({ op: 'ping', id: 2 }));
    const closed = await c.closed;
    assert.equal(closed.code, 1008);
    assert.equal(closed.reason, 'too many errors (3 in 60000 ms; last: bad-json)');
    assert.deepEqual(
      c.frames.slice(1).map((f) => [f.type, f.code]),
      [
        ['error', 'bad-json'],
        ['error', 'unknown-op'],
        ['error', 'bad-json'],
      ],
    );
    const opp = testOpportunity();
    gw.publishOpportunity(opp);
    assert.equal((await bystander.request({ op: 'ping' })).type, 'pong');
    assert.deepEqual(bystander.opportunityIds(), [opp.id]);
    assert.equal(gw.figures().clients, 1);
  });

  it('behavior: errors older than errorWindowMs are forgotten', async () => {
    const { connect } = await startGateway({ maxErrors: 3, errorWindowMs: 1000 });
    const c = await connect();
    for (let i = 0; i < 2; i++) {
      const from = c.frames.length;
      c.send('{');
      await c.waitFor((f) => f.type === 'error', 'error', 5000, from);
    }
    await new Promise((r) => setTimeout(r, 1100));
    for (let i = 0; i < 2; i++) {
      const from = c.frames.length;
      c.send('{');
      await c.waitFor((f) => f.type === 'error', 'error', 5000, from);
    }
    assert.equal((await c.request({ op: 'ping' })).type, 'pong', 'two errors in the window: still open');
    c.send('{');
    const closed = await c.closed;
    assert.equal(closed.code, 1008);
    assert.match(closed.reason, /^too many errors \(3 in 1000 ms; last: bad-json\)$/);
  });
});

describe('Gateway: slow consumers', () => {
  it('behavior: clients that stop reading are cut at maxBackpressureBytes (unfiltered and filtered); a normal client receives every frame', async () => {
    const { gw, at, connect } = await startGateway({ maxBackpressureBytes: 64 * 1024 });
    const normal = await connect(KEYS.viewer);
    await subscribe(normal, ['opportunities']);
    const slow = await connect(KEYS.viewer);
    await subscribe(slow, ['opportunities']);
    const slowFiltered = await connect(KEYS.viewer2);
    await subscribe(slowFiltered, ['opportunities'], { kinds: ['backrun-arbitrage'] });
    // Stop reading: the kernel buffers fill, then uWS queues until the limit.
    for (const c of [slow, slowFiltered]) (c.ws as WebSocket & { _socket: { pause(): void } })._socket.pause();
    // ~64 KiB frames, published in batches with a turn of the loop between them so sockets flush.
    const hashes = Array.from({ length: 1000 }, (_, i) => `0x${i.toString(16).padStart(64, '0')}`);
    const published: string[] = [];
    while (gw.figures().backpressureCuts < 2) {
      assert.ok(published.length < 1000, `no cut after ${published.length} frames: ${JSON.stringify(gw.figures())}`);
      for (let i = 0; i < 8; i++) {
        const o = testOpportunity({ victimHashes: hashes });
        gw.publishOpportunity(o);
        published.push(o.id);
      }
      await new Promise((r) => setImmediate(r));
    }
    const last = testOpportunity();
    gw.publishOpportunity(last);
    published.push(last.id);
    await normal.sync(30_000);
    assert.deepEqual(normal.opportunityIds(), published, 'the normal client got every frame, in order');
    const figures = gw.figures();
    assert.equal(figures.backpressureCuts, 2);
    assert.ok(figures.framesDropped >= 2);
    assert.equal(figures.clients, 1);
    // The slow ones see their connection dropped (no close frame) once they read again, having missed frames.
    for (const c of [slow, slowFiltered]) {
      (c.ws as WebSocket & { _socket: { resume(): void } })._socket.resume();
      const closed = await c.closed;
      assert.equal(closed.code, 1006);
      assert.ok(c.opportunityIds().length < published.length);
    }
    const m = parseExposition((await http(at, '/metrics', { key: KEYS.operator })).text);
    assert.equal(samples(m, 'orion_ws_backpressure_cuts_total').get(''), 2);
    assert.equal(samples(m, 'orion_ws_clients').get(''), 1);
  });
});

describe('Gateway: msgpack', () => {
  it('behavior: msgpack clients get binary msgpack frames that decode to the JSON frames', async () => {
    const { gw, connect } = await startGateway();
    const json = await connect(KEYS.viewer);
    const mp = await connect(KEYS.viewer2, { encoding: 'msgpack' });
    assert.ok(Buffer.isBuffer(mp.wire[0]), 'hello is a binary frame');
    assert.equal(mp.frames[0]!.encoding, 'msgpack');
    for (const c of [json, mp]) await subscribe(c, ['opportunities', 'txs', 'blocks']);
    const opp = testOpportunity({ netWei: 2n ** 70n + 3n, plan: [{ kind: 'v2-pair-swap', pair: POOL_1, amount0Out: 0n, amount1Out: 2n ** 100n, to: null }], gas: [{ gasUsed: 90_000n, gasLimit: 120_000n, priorityFee: 10n ** 9n }] });
    const block = testBlock({ number: 2 ** 40, excessBlobGas: 2n ** 80n, baseFeePerGas: null });
    const tx = testTx(7);
    const from = { json: json.frames.length, mp: mp.frames.length };
    gw.publishOpportunity(opp);
    gw.publishBlock(block);
    gw.publishTx(tx);
    await json.sync();
    await mp.sync();
    const jf = since(json, from.json);
    const mf = since(mp, from.mp);
    assert.deepEqual(jf.map((f) => f.type), ['opportunity', 'block', 'tx', 'pong']);
    assert.deepEqual(mf, jf, 'msgpack decodes to what the JSON frames say');
    for (const w of mp.wire.slice(from.mp)) {
      assert.ok(Buffer.isBuffer(w), 'binary frame');
      // A plain msgpack map (fixmap or map16 header), not a msgpackr record extension other decoders cannot read.
      assert.ok((w[0]! & 0xf0) === 0x80 || w[0] === 0xde || w[0] === 0xdf, `frame starts with 0x${w[0]!.toString(16)}`);
    }
    assert.equal(jf[0]!.data.profit.netWei, (2n ** 70n + 3n).toString());
    assert.deepEqual(jf[0]!.data, toJsonValue(opp));
    assert.equal(jf[1]!.data.number, 2 ** 40);
    assert.equal(jf[1]!.data.baseFeePerGas, null);
    assert.equal(jf[2]!.data.input, '0xa9059cbb0001');
    assert.equal(jf[2]!.data.r, (2n ** 255n).toString());
    // Error frames are msgpack too.
    const before = mp.frames.length;
    mp.send('nope');
    const err = await mp.waitFor(() => true, 'error', 5000, before);
    assert.equal(err.code, 'bad-json');
    assert.ok(Buffer.isBuffer(mp.wire.at(-1)));
    assert.deepEqual(gw.figures().clientsByEncoding, { json: 1, msgpack: 1 });
  });
});

describe('Gateway: subscriptions and filters', () => {
  // A spread of opportunities: kinds, profits, token paths, pools, verification outcomes.
  const opps: Record<string, Opportunity> = {
    backrunBig: testOpportunity({ kind: 'backrun-arbitrage', netWei: 5n * 10n ** 16n, pools: [POOL_1, POOL_2], tokenPath: [WETH, TOKEN_A, WETH] }),
    backrunSmall: testOpportunity({ kind: 'backrun-arbitrage', netWei: 10n ** 14n, pools: [POOL_2, POOL_3], tokenPath: [WETH, TOKEN_B, WETH] }),
    sandwich: testOpportunity({ kind: 'v2-sandwich', netWei: 2n * 10n ** 16n, pools: [POOL_3], tokenPath: [WETH, TOKEN_B] }),
    arbUnverified: testOpportunity({ kind: 'v2-arbitrage', verification: 'unverified', netWei: 10n ** 16n, pools: [POOL_1], tokenPath: [WETH, TOKEN_A, WETH] }),
    mixedPending: testOpportunity({ kind: 'mixed-arbitrage', verification: 'pending', netWei: 3n * 10n ** 16n, pools: [POOL_1, POOL_3], tokenPath: [WETH, TOKEN_A, TOKEN_B, WETH] }),
    backrunRejected: testOpportunity({ kind: 'backrun-arbitrage', verification: 'rejected', rejectReason: 'revert:1:K', netWei: 9n * 10n ** 16n, pools: [POOL_1, POOL_2], tokenPath: [WETH, TOKEN_A, WETH] }),
    sandwichRejected: testOpportunity({ kind: 'v2-sandwich', verification: 'rejected', rejectReason: 'unprofitable', netWei: 10n ** 15n, pools: [POOL_3], tokenPath: [WETH, TOKEN_B] }),
  };
  const order = Object.keys(opps);
  const ids = (...names: string[]) => order.filter((n) => names.includes(n)).map((n) => opps[n]!.id);

  it('behavior: each client receives exactly the opportunities its filter matches', async () => {
    const { gw, connect } = await startGateway();
    const cases: [string, Record<string, unknown> | undefined, string[]][] = [
      ['no filter', undefined, ids('backrunBig', 'backrunSmall', 'sandwich', 'arbUnverified', 'mixedPending')],
      ['empty filter', {}, ids('backrunBig', 'backrunSmall', 'sandwich', 'arbUnverified', 'mixedPending')],
      ['kinds', { kinds: ['backrun-arbitrage'] }, ids('backrunBig', 'backrunSmall')],
      ['two kinds', { kinds: ['v2-sandwich', 'mixed-arbitrage'] }, ids('sandwich', 'mixedPending')],
      ['minNetProfitWei (inclusive)', { minNetProfitWei: (2n * 10n ** 16n).toString() }, ids('backrunBig', 'sandwich', 'mixedPending')],
      ['tokens', { tokens: [TOKEN_B.toUpperCase().replace('0X', '0x')] }, ids('backrunSmall', 'sandwich', 'mixedPending')],
      ['pools', { pools: [POOL_1] }, ids('backrunBig', 'arbUnverified', 'mixedPending')],
      ['includeRejected', { includeRejected: true }, ids(...order)],
      ['kinds with includeRejected', { kinds: ['v2-sandwich'], includeRejected: true }, ids('sandwich', 'sandwichRejected')],
      ['every field', { kinds: ['backrun-arbitrage', 'v2-arbitrage'], minNetProfitWei: (10n ** 16n).toString(), tokens: [TOKEN_A], pools: [POOL_1, POOL_2], includeRejected: true }, ids('backrunBig', 'arbUnverified', 'backrunRejected')],
      ['nothing matches', { pools: [addr(0xdead)] }, []],
    ];
    const clients: StreamClient[] = [];
    for (const [name, filter] of cases) {
      const c = await connect(KEYS.viewer, { encoding: clients.length % 2 === 0 ? 'json' : 'msgpack' });
      const r = await subscribe(c, ['opportunities'], filter);
      assert.deepEqual(r.filter, filter ?? null, name);
      clients.push(c);
    }
    // One more with txs only: no opportunity frames.
    const txsOnly = await connect(KEYS.viewer2);
    await subscribe(txsOnly, ['txs']);
    for (const n of order) gw.publishOpportunity(opps[n]!);
    for (let i = 0; i < cases.length; i++) {
      await clients[i]!.sync();
      assert.deepEqual(clients[i]!.opportunityIds(), cases[i]![2], cases[i]![0]);
    }
    await txsOnly.sync();
    assert.deepEqual(txsOnly.opportunityIds(), []);
  });

  it('behavior: resubscribing replaces the filter; unsubscribe stops delivery; each topic goes to its subscribers only', async () => {
    const { gw, connect } = await startGateway();
    const c = await connect();
    const publishAll = async () => {
      const from = c.frames.length;
      for (const n of order) gw.publishOpportunity(opps[n]!);
      gw.publishTx(testTx(1));
      gw.publishBlock(testBlock({ number: 5 }));
      await c.sync();
      return since(c, from).filter((f) => f.type !== 'pong');
    };
    await subscribe(c, ['opportunities'], { kinds: ['v2-sandwich'] });
    assert.deepEqual((await publishAll()).map((f) => f.data.id), ids('sandwich'));
    const r = await subscribe(c, ['opportunities', 'blocks']);
    assert.deepEqual(r.topics, ['opportunities', 'blocks']);
    assert.equal(r.filter, null);
    let got = await publishAll();
    assert.deepEqual(got.filter((f) => f.type === 'opportunity').map((f) => f.data.id), ids('backrunBig', 'backrunSmall', 'sandwich', 'arbUnverified', 'mixedPending'));
    assert.deepEqual(got.filter((f) => f.type !== 'opportunity').map((f) => f.type), ['block']);
    await subscribe(c, ['opportunities', 'txs'], { pools: [POOL_3], includeRejected: true });
    got = await publishAll();
    assert.deepEqual(got.map((f) => f.type), ['opportunity', 'opportunity', 'opportunity', 'opportunity', 'tx', 'block']);
    assert.deepEqual(got.filter((f) => f.type === 'opportunity').map((f) => f.data.id), ids('backrunSmall', 'sandwich', 'mixedPending', 'sandwichRejected'));
    const un = await c.request({ op: 'unsubscribe', topics: ['opportunities', 'blocks'] });
    assert.deepEqual(un, { type: 'unsubscribed', id: un.id, topics: ['txs'] });
    assert.deepEqual((await publishAll()).map((f) => f.type), ['tx']);
    const all = await c.request({ op: 'unsubscribe' });
    assert.deepEqual(all.topics, []);
    assert.deepEqual(await publishAll(), []);
  });

  it('behavior: /v1/status keeps the latest recentOpportunities that were not rejected, newest first', async () => {
    const { gw, at } = await startGateway({ recentOpportunities: 2 });
    for (const n of order) gw.publishOpportunity(opps[n]!);
    const s = (await http(at, '/v1/status', { key: KEYS.viewer })).json() as unknown as StatusView;
    assert.deepEqual(
      (s.recent as { id: string }[]).map((o) => o.id),
      ids('arbUnverified', 'mixedPending').reverse(),
    );
    assert.deepEqual(s.opportunities, { 'backrun-arbitrage/verified': 2, 'v2-sandwich/verified': 1, 'v2-arbitrage/unverified': 1, 'mixed-arbitrage/pending': 1, 'backrun-arbitrage/rejected': 1, 'v2-sandwich/rejected': 1 });
  });
});

describe('Gateway: close', () => {
  it('behavior: close sends every client a shutdown frame, then closes it with 1001; new connections are refused', async () => {
    const { gw, at, connect } = await startGateway();
    const a = await connect(KEYS.viewer);
    const b = await connect(KEYS.viewer2, { encoding: 'msgpack' });
    await subscribe(a, ['opportunities']);
    gw.publishOpportunity(testOpportunity());
    await gw.close();
    for (const c of [a, b]) {
      const closed = await c.closed;
      assert.deepEqual(closed, { code: 1001, reason: 'server shutting down' });
      assert.deepEqual(c.frames.at(-1), { type: 'shutdown', message: 'the gateway is shutting down' });
    }
    assert.equal(a.ofType('opportunity').length, 1, 'what was queued arrived before the shutdown frame');
    await assert.rejects(StreamClient.connect(at.streamUrl, { key: KEYS.viewer }), /ECONNREFUSED/);
    // Publishing into a closed gateway (the engine may still drain into it) and closing again are harmless.
    gw.publishOpportunity(testOpportunity());
    gw.publishTx(testTx(2));
    gw.publishBlock(testBlock());
    await gw.close();
    assert.equal(gw.figures().clients, 0);
  });

  it('regression: nothing follows the shutdown frame while close() gives a slow client its grace period', async () => {
    const { gw, connect } = await startGateway({ shutdownGraceMs: 500, maxBackpressureBytes: 64 << 20 });
    const normal = await connect(KEYS.viewer);
    const slow = await connect(KEYS.viewer2);
    for (const c of [normal, slow]) await subscribe(c, ['opportunities', 'txs', 'blocks']);
    (slow.ws as WebSocket & { _socket: { pause(): void; resume(): void } })._socket.pause();
    // ~10 MB the slow client does not read: more than the kernel buffers hold, so close() waits for it.
    const hashes = Array.from({ length: 1000 }, (_, i) => `0x${i.toString(16).padStart(64, '0')}`);
    for (let i = 0; i < 160; i++) gw.publishOpportunity(testOpportunity({ victimHashes: hashes }));
    // The engine keeps publishing while the gateway closes.
    let during = 0;
    const timer = setInterval(() => {
      during++;
      gw.publishOpportunity(testOpportunity());
      gw.publishTx(testTx(during));
      gw.publishBlock(testBlock({ number: during }));
    }, 5);
    try {
      await gw.close();
    } finally {
      clearInterval(timer);
    }
    assert.ok(during > 0);
    assert.deepEqual(await normal.closed, { code: 1001, reason: 'server shutting down' });
    const types = normal.frames.map((f) => f.type);
    assert.equal(types.filter((t) => t === 'opportunity').length, 160, 'what was published before close() arrived');
    assert.equal(types.at(-1), 'shutdown', `frames after the shutdown frame: ${types.slice(types.indexOf('shutdown') + 1).join(' ')}`);
    (slow.ws as WebSocket & { _socket: { resume(): void } })._socket.resume();
    await slow.closed;
    assert.ok(slow.frames.every((f, i) => f.type !== 'shutdown' || i === slow.frames.length - 1));
  });
});
