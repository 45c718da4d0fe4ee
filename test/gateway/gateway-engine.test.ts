import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Opportunity } from '../../src/actors/scorer/opportunity.js';
import { type Devnet, startDevnet } from '../../src/devnet/devnet.js';
import { devnetEngineConfig } from '../../src/devnet/engine-config.js';
import type { TrafficRun } from '../../src/devnet/traffic.js';
import { Engine, STAGES } from '../../src/engine.js';
import { Gateway, type GatewayAddress, type Health } from '../../src/gateway/gateway.js';
import { EXPOSITION_CONTENT_TYPE } from '../../src/gateway/prometheus.js';
import { matches, parseFilter } from '../../src/gateway/protocol.js';
import { toJsonValue } from '../../src/messages/json.js';
import { Kind } from '../../src/messages/schema.js';
import { createLogger } from '../../src/runtime/log.js';
import { waitUntil } from '../support/chain.js';
import { testConfig } from '../support/harness.js';
import { labelKey, parseExposition, samples, summarySamples } from './exposition.js';
import { KEYS, KEY_ENTRIES } from './fixtures.js';
import { StreamClient } from './stream-client.js';

/**
 * The gateway serving a real engine on an anvil devnet with traffic (as `orion demo` runs it), with
 * real `ws` clients: a filtered subscriber gets exactly the matching part of what an unfiltered one
 * gets, the txs and blocks topics deliver, /metrics parses as Prometheus, and /health follows an
 * actor restarted over the admin route (restart backoff 1.5 s, so it stays down long enough to see).
 * The engine's own opportunity output is the reference: the stream is frozen (traffic stopped,
 * engine drained) before the clients' streams are compared with it.
 */

const BACKRUNS = { kinds: ['backrun-arbitrage'] };
/** The actor the admin restarts. */
const RESTARTED = 'scorer';

let net: Devnet;
let engine: Engine;
let engineStopped = false;
let gateway: Gateway;
let at: GatewayAddress;
let traffic: TrafficRun | null = null;
const outputs: Opportunity[] = [];
/** Unfiltered (JSON), all four topics. */
let all: StreamClient;
/** Filtered to backrun arbitrages (JSON). */
let backruns: StreamClient;
/** msgpack, every opportunity including the ones the verification rejected. */
let everything: StreamClient;

before(async () => {
  net = await startDevnet({ blockTime: 1 });
  const config = testConfig({
    ...devnetEngineConfig(net),
    gateway: { enabled: true, apiKeys: KEY_ENTRIES, statsIntervalMs: 500 },
    supervisor: { hangTimeoutMs: 10_000, bootstrapTimeoutMs: 30_000, metricsIntervalMs: 200, restartBackoffInitialMs: 1500 },
  });
  engine = new Engine(config);
  engine.onOutput((m) => {
    if (m.kind === Kind.Opportunity) outputs.push(m.data as Opportunity);
  });
  gateway = new Gateway({ config: config.gateway, log: createLogger('gateway', config.log.level), engine });
  at = await gateway.listen();
  // Subscribed before the engine starts, so each client sees the whole stream.
  all = await StreamClient.connect(at.streamUrl, { key: KEYS.viewer });
  backruns = await StreamClient.connect(at.streamUrl, { key: KEYS.viewer2 });
  everything = await StreamClient.connect(at.streamUrl, { key: KEYS.operator, encoding: 'msgpack' });
  assert.equal((await all.request({ op: 'subscribe', topics: ['opportunities', 'txs', 'blocks', 'stats'] })).type, 'subscribed');
  assert.equal((await backruns.request({ op: 'subscribe', topics: ['opportunities'], filter: BACKRUNS })).type, 'subscribed');
  assert.equal((await everything.request({ op: 'subscribe', topics: ['opportunities'], filter: { includeRejected: true } })).type, 'subscribed');
  await engine.start();
  traffic = net.traffic({ rate: 50 });
  await traffic.ready;
});

after(async () => {
  await traffic?.stop().catch(() => {});
  if (engine && !engineStopped) await engine.stop().catch(() => engine.kill());
  for (const c of [all, backruns, everything]) c?.terminate();
  await gateway?.close();
  await net?.stop();
});

async function http(path: string, opts: { key?: string; method?: string } = {}): Promise<{ status: number; type: string | null; text: string }> {
  const res = await fetch(new URL(path, at.url), { method: opts.method ?? 'GET', headers: opts.key === undefined ? {} : { authorization: `Bearer ${opts.key}` } });
  return { status: res.status, type: res.headers.get('content-type'), text: await res.text() };
}

async function health(): Promise<{ status: number; body: Health }> {
  const r = await http('/health');
  return { status: r.status, body: JSON.parse(r.text) as Health };
}

/** Polls /health until it answers `status`. */
async function healthBecomes(status: number, ms: number): Promise<Health> {
  const deadline = Date.now() + ms;
  for (;;) {
    const h = await health();
    if (h.status === status) return h.body;
    if (Date.now() > deadline) throw new Error(`/health still ${h.status} after ${ms} ms: ${JSON.stringify(h.body)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('gateway on a live engine (anvil devnet, traffic at 50 tx/s)', { timeout: 90_000 }, () => {
  it('behavior: /health is 200 once every actor runs and the node source is connected', async () => {
    const h = await healthBecomes(200, 20_000);
    assert.equal(h.status, 'ok');
    assert.deepEqual(h.problems, []);
    assert.deepEqual(Object.keys(h.actors), [...STAGES]);
    for (const a of Object.values(h.actors)) assert.deepEqual(a, { status: 'running', restarts: 0 });
    assert.deepEqual(h.node.sources, { devnet: 'connected' });
    assert.equal(h.clients, 3);
  });

  it('behavior: the txs, blocks and stats topics deliver decoded transactions, block events and stage stats', async () => {
    const sent = () => new Set(traffic!.records.map((t) => t.hash.toLowerCase()));
    const tx = await all.waitFor((f) => f.type === 'tx' && sent().has(String(f.data.hash).toLowerCase()), 'a tx frame of a sent transaction', 20_000);
    assert.match(tx.data.from, /^0x[0-9a-f]{40}$/);
    assert.match(tx.data.raw, /^0x[0-9a-f]+$/);
    assert.equal(typeof tx.data.nonce, 'string', 'bigints as decimal strings');
    const block = await all.waitFor((f) => f.type === 'block', 'a block frame', 10_000);
    assert.ok(Number.isInteger(block.data.number) && block.data.number > 0);
    assert.match(block.data.hash, /^0x[0-9a-f]{64}$/);
    const stats = await all.waitFor((f) => f.type === 'stats', 'a stats frame', 5000);
    assert.deepEqual(Object.keys(stats.data).filter((k) => (STAGES as readonly string[]).includes(k)), [...STAGES]);
    // The filtered subscribers asked for opportunities only.
    for (const c of [backruns, everything]) assert.deepEqual(c.frames.slice(2).filter((f) => f.type !== 'opportunity'), []);
  });

  it('behavior: /metrics (operator) parses as Prometheus text with per-stage families; lower roles are refused', async () => {
    assert.equal((await http('/metrics')).status, 401);
    assert.equal((await http('/metrics', { key: KEYS.viewer })).status, 403);
    // Counters travel with each stage's next metrics snapshot (every 200 ms here).
    const counters = () => engine.stats().stages;
    await waitUntil(
      () => (counters().ingest?.counters['source.devnet.txs'] ?? 0) > 0 && Object.entries(counters().decoder?.counters ?? {}).some(([k, v]) => k.startsWith('intent.') && v > 0),
      () => `no ingested txs or decoded swap intents yet: ${JSON.stringify({ ingest: counters().ingest?.counters, decoder: counters().decoder?.counters })}`,
      20_000,
    );
    const r = await http('/metrics', { key: KEYS.operator });
    assert.equal(r.status, 200);
    assert.equal(r.type, EXPOSITION_CONTENT_TYPE);
    const f = parseExposition(r.text);
    const perStage = STAGES.map((stage) => labelKey({ stage }));
    for (const name of ['orion_actor_up', 'orion_actor_restarts_total', 'orion_stage_records_total', 'orion_dead_letters_total', 'orion_output_drops_total']) {
      assert.deepEqual([...samples(f, name).keys()], perStage, name);
    }
    assert.deepEqual([...samples(f, 'orion_actor_up').values()], [1, 1, 1, 1, 1]);
    assert.ok(samples(f, 'orion_stage_records_total').get(labelKey({ stage: 'decoder' }))! > 0);
    for (const name of ['orion_stage_service_seconds', 'orion_stage_queue_wait_seconds']) {
      const s = summarySamples(r.text, name);
      assert.deepEqual([...s.count.keys()], perStage, name);
      assert.equal(s.quantiles.size, STAGES.length * 4, name);
    }
    assert.ok(samples(f, 'orion_ingest_source_txs_total').get(labelKey({ source: 'devnet' }))! > 0);
    assert.ok([...samples(f, 'orion_decode_intents_total').values()].some((v) => v > 0));
    assert.equal(samples(f, 'orion_ws_clients').get(''), 3);
    assert.deepEqual(Object.fromEntries(samples(f, 'orion_ws_clients_by_encoding')), { '{encoding="json"}': 2, '{encoding="msgpack"}': 1 });
    assert.ok(samples(f, 'orion_ws_frames_sent_total').get(labelKey({ topic: 'txs' }))! > 0);
    assert.ok(samples(f, 'orion_head_block').get('')! > 0);
    assert.equal(samples(f, 'orion_http_refused_total').get(labelKey({ reason: 'role' })), 1);
  });

  it('error: bad frames against the live engine get their error frames, a flood ends in a 1008 close, and the other clients keep receiving', async () => {
    // Its own key, so its flood does not spend the other clients' token bucket.
    const bad = await StreamClient.connect(at.streamUrl, { key: KEYS.admin });
    try {
      const cases: [string, string][] = [
        ['{"op":', 'bad-json'],
        [JSON.stringify({ op: 'publish', id: 1 }), 'unknown-op'],
        [JSON.stringify({ op: 'subscribe', id: 2, topics: ['mempool'] }), 'unknown-topic'],
        [JSON.stringify({ op: 'subscribe', id: 3, topics: ['opportunities'], filter: { minNetProfitWei: -1 } }), 'bad-filter'],
        ['x'.repeat(gateway.config.maxFrameBytes + 1), 'frame-too-large'],
      ].slice(0, gateway.config.maxErrors - 1) as [string, string][];
      for (const [frame, code] of cases) {
        const from = bad.frames.length;
        bad.send(frame);
        assert.equal((await bad.waitFor(() => true, code, 5000, from)).code, code);
      }
      assert.equal((await bad.request({ op: 'ping' })).type, 'pong', 'still served below maxErrors');
      const txsBefore = all.ofType('tx').length;
      // A flood past the key's burst: the first rate-limited frame is the error that closes it.
      for (let i = 0; i < gateway.config.opsBurst * 2; i++) bad.send({ op: 'ping', id: `f${i}` });
      const closed = await bad.closed;
      assert.equal(closed.code, 1008);
      assert.equal(closed.reason, `too many errors (${gateway.config.maxErrors} in ${gateway.config.errorWindowMs} ms; last: rate-limited)`);
      assert.equal(bad.frames.at(-1)!.code, 'rate-limited');
      for (const [, code] of cases) assert.ok(gateway.figures().errorFrames[code]! >= 1, code);
      await all.waitFor((f) => f.type === 'tx', 'a tx frame after the flood', 20_000, all.frames.length);
      assert.ok(all.ofType('tx').length > txsBefore);
      assert.equal((await all.request({ op: 'ping' })).type, 'pong');
      assert.equal(gateway.figures().clients, 3);
    } finally {
      bad.terminate();
    }
  });

  it('error: the restart route needs an admin key and a known actor', async () => {
    assert.equal((await http('/v1/admin/restart?actor=scorer', { method: 'POST' })).status, 401);
    for (const key of [KEYS.viewer, KEYS.operator]) {
      const r = await http('/v1/admin/restart?actor=scorer', { method: 'POST', key });
      assert.equal(r.status, 403);
      assert.equal(JSON.parse(r.text).error, 'forbidden');
    }
    const bad = await http('/v1/admin/restart?actor=nope', { method: 'POST', key: KEYS.admin });
    assert.equal(bad.status, 400);
    assert.equal(JSON.parse(bad.text).error, 'bad-actor');
    for (const [stage, st] of Object.entries(engine.stats().stages)) assert.equal(st.restarts, 0, `${stage}: nothing was restarted`);
    assert.equal((await health()).status, 200);
  });

  it('behavior: /health turns 503 while an actor restarted by an admin is down, and back to 200 after its restart', async () => {
    // The scorer: its restart re-creates its piscina verification pool, whose workers load their
    // task module with require() first (Node 20 once failed the import() after it while the module
    // graph had a top-level await; simulate-tx.ts no longer has one).
    const r = await http(`/v1/admin/restart?actor=${RESTARTED}`, { method: 'POST', key: KEYS.admin });
    assert.equal(r.status, 202, r.text);
    assert.deepEqual(JSON.parse(r.text), { restarting: RESTARTED });
    // It is waiting out its 1.5 s restart backoff.
    const down = await health();
    assert.equal(down.status, 503, JSON.stringify(down.body));
    assert.equal(down.body.status, 'unhealthy');
    assert.deepEqual(down.body.problems, [`actor ${RESTARTED} is restarting`]);
    assert.equal(down.body.actors[RESTARTED]!.status, 'restarting');
    const m = parseExposition((await http('/metrics', { key: KEYS.admin })).text);
    assert.equal(samples(m, 'orion_actor_up').get(labelKey({ stage: RESTARTED })), 0);
    const up = await healthBecomes(200, 30_000);
    assert.deepEqual(up.actors[RESTARTED], { status: 'running', restarts: 1 });
    for (const stage of STAGES) if (stage !== RESTARTED) assert.equal(up.actors[stage]!.restarts, 0, stage);
    assert.equal(engine.error(), null);
    // The restarted scorer forwards heads to the blocks topic again.
    const from = all.frames.length;
    await all.waitFor((f) => f.type === 'block', 'a block frame after the restart', 20_000, from);
  });

  it('behavior: a filtered subscriber receives exactly the matching opportunities of the unfiltered stream (and at least one); msgpack carries the same data', async (t) => {
    await backruns.waitFor((f) => f.type === 'opportunity', 'a backrun opportunity', 40_000);
    // Freeze the stream: stop the traffic and drain the engine, so every output has been published.
    await traffic!.stop();
    engineStopped = true;
    await engine.stop();
    for (const c of [all, backruns, everything]) await c.sync();

    const allIds = all.opportunityIds();
    const filter = parseFilter(BACKRUNS);
    const wantBackruns = all.ofType('opportunity').filter((f) => f.data.kind === 'backrun-arbitrage').map((f) => f.data.id as string);
    assert.ok(wantBackruns.length >= 1);
    assert.deepEqual(backruns.opportunityIds(), wantBackruns, 'the filtered client got exactly the backruns of the unfiltered stream');
    // Both agree with what the engine emitted.
    // The default: all but those rejected as soon as scored (a pending one's outcome follows it, same id).
    assert.deepEqual(allIds, outputs.filter((o) => matches(o, null)).map((o) => o.id));
    assert.deepEqual(backruns.opportunityIds(), outputs.filter((o) => matches(o, filter)).map((o) => o.id));
    assert.deepEqual(everything.opportunityIds(), outputs.map((o) => o.id));
    // msgpack frames decode to the same data as the JSON frames and the engine's records.
    const jsonFrames = all.ofType('opportunity');
    const mpFrames = everything.ofType('opportunity').filter((f) => !(f.data.verification === 'rejected' && f.data.revision === 0));
    assert.equal(mpFrames.length, jsonFrames.length);
    for (let i = 0; i < jsonFrames.length; i++) assert.deepEqual(mpFrames[i]!.data, jsonFrames[i]!.data);
    for (let i = 0; i < outputs.length; i++) assert.deepEqual(everything.ofType('opportunity')[i]!.data, toJsonValue(outputs[i]));
    t.diagnostic(`${outputs.length} opportunities out (${outputs.length - allIds.length} rejected), ${allIds.length} to the unfiltered client, ${wantBackruns.length} to the filtered one`);
    const counts = gateway.figures().framesSent;
    assert.ok(counts.opportunities! >= allIds.length + wantBackruns.length + outputs.length);
  });
});
