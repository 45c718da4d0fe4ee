import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import type { EngineStats, StageStats } from '../../src/engine.js';
import { EXPOSITION_CONTENT_TYPE, Exposition, type GatewayFigures, engineExposition } from '../../src/gateway/prometheus.js';
import type { Percentiles } from '../../src/runtime/metrics.js';
import { isPromFloat, labelKey, parseExposition, samples, summarySamples } from './exposition.js';

const pct = (base: number, count = 100): Percentiles => ({ count, p50: base, p90: base * 2, p99: base * 4, p999: base * 8, max: base * 10, mean: base * 1.5 });

function stage(fields: Partial<StageStats> = {}): StageStats {
  return {
    status: 'running',
    restarts: 0,
    deadLetters: 0,
    records: 1000,
    batches: 10,
    duplicates: 0,
    serviceUs: pct(10),
    queueWaitUs: pct(3),
    ring: { depthBytes: 128, capacityBytes: 1 << 22, drops: 0 },
    outputDrops: 0,
    counters: {},
    histogramsUs: {},
    ...fields,
  };
}

/** An engine mid-run: ingest from one source, the decoder rejecting and classifying, the scorer restarting. */
const STATS: EngineStats = {
  uptimeSec: 12.5,
  stages: {
    ingest: stage({ ring: null, counters: { 'source.devnet.txs': 900, 'source.devnet.first': 899, 'source.devnet.blocks': 12, 'source.devnet.connected': 1, 'unique.txs': 900 } }),
    decoder: stage({ counters: { decoded: 880, 'reject.bad-rlp': 3, 'reject.bad-signature': 1, 'filtered.no-intent': 500, 'intent.v2-swap': 300, 'intent.v3-swap': 80 }, histogramsUs: { firstSeenToDecoded: pct(40) } }),
    simulator: stage({ counters: { 'shed.queue-full': 2 }, deadLetters: 1 }),
    scorer: stage({ status: 'restarting', restarts: 2, outputDrops: 4, counters: { 'opportunity.backrun-arbitrage': 7, 'opportunity.v2-sandwich': 1, 'verify.verified': 6, 'verify.rejected.revert': 2 }, histogramsUs: { firstSeenToScored: pct(200), firstSeenToVerified: pct(900) } }),
    submitter: stage({ status: 'running' }),
  },
  endToEndUs: pct(500, 880),
  output: { records: 880, duplicates: 0, perSecond: 70, handlerErrors: 0 },
};

const FIGURES: GatewayFigures = {
  clients: 3,
  clientsByEncoding: { json: 2, msgpack: 1 },
  framesSent: { opportunities: 20, txs: 900, blocks: 12, stats: 5, replies: 9 },
  framesDropped: 1,
  backpressureCuts: 1,
  errorFrames: { 'bad-json': 2, 'rate-limited': 5, closed: 1 },
  refused: { 'missing-key': 1, role: 2 },
  tapDrops: 0,
  headBlock: 42,
};

const text = engineExposition(STATS, FIGURES, { secp256k1Native: true, opportunitiesOut: { 'backrun-arbitrage/verified': 6, 'backrun-arbitrage/rejected': 2 } });

describe('Exposition', () => {
  it('default: HELP and TYPE once per family, samples grouped under it even when added interleaved', () => {
    const x = new Exposition().counter('a_total', 'A things', 1, { k: 'x' }).gauge('b', 'B level', 2).counter('a_total', 'A things', 3, { k: 'y' });
    const s = x.toString();
    assert.equal(s, '# HELP a_total A things\n# TYPE a_total counter\na_total{k="x"} 1\na_total{k="y"} 3\n# HELP b B level\n# TYPE b gauge\nb 2\n');
    const f = parseExposition(s);
    assert.deepEqual([...f.keys()], ['a_total', 'b']);
    assert.deepEqual([...samples(f, 'a_total')], [['{k="x"}', 1], ['{k="y"}', 3]]);
    assert.deepEqual([...samples(f, 'b')], [['', 2]]);
  });

  it('behavior: label values with backslashes, quotes and newlines are escaped and read back intact', () => {
    const nasty = ['back\\slash', 'quote"d', 'new\nline', '\\"\n\\n', 'end\\', '{x="1"}', 'tab\tand ,comma', 'ünïcödé'];
    const x = new Exposition();
    nasty.forEach((v, i) => x.counter('weird_total', 'Weird labels', i, { v, i: String(i) }));
    const s = x.toString();
    // One sample per line: newlines inside values are escaped.
    assert.equal(s.split('\n').filter((l) => l.startsWith('weird_total')).length, nasty.length);
    const f = parseExposition(s);
    const got = f.get('weird_total')!.metrics.map((m) => m.labels!.v);
    assert.deepEqual(got, nasty);
  });

  it('behavior: help text with backslashes and newlines is escaped', () => {
    const s = new Exposition().gauge('g', 'line one\nline two \\ done', 1).toString();
    assert.equal(s.split('\n')[0], '# HELP g line one\\nline two \\\\ done');
    assert.equal(parsePrometheusTextFormat(s)[0]!.help, 'line one\nline two \\ done');
  });

  it('args: NaN and infinities are spelled as the format wants', () => {
    const s = new Exposition().gauge('g', 'G', Number.NaN, { w: 'nan' }).gauge('g', 'G', Infinity, { w: 'inf' }).gauge('g', 'G', -Infinity, { w: 'ninf' }).gauge('g', 'G', 1e-7, { w: 'tiny' }).gauge('g', 'G', 2 ** 60, { w: 'big' }).gauge('g', 'G', 1e21, { w: 'huge' }).toString();
    const f = parseExposition(s);
    const v = Object.fromEntries(f.get('g')!.metrics.map((m) => [m.labels!.w, m.value]));
    assert.deepEqual(v, { nan: 'NaN', inf: '+Inf', ninf: '-Inf', tiny: '1e-7', big: '1152921504606847000', huge: '1e+21' });
    for (const x of Object.values(v)) assert.ok(isPromFloat(x!));
    // Shortest round-trip spelling: reads back as the same double.
    assert.equal(Number(v.big), 2 ** 60);
  });

  it('behavior: a summary in seconds from µs percentiles, with _sum and _count', () => {
    const s = new Exposition().summaryUs('lat_seconds', 'Latency', pct(10, 4), { stage: 'x' }).summaryUs('lat_seconds', 'Latency', pct(20, 2), { stage: 'y' }).toString();
    parseExposition(s);
    const { quantiles, sum, count } = summarySamples(s, 'lat_seconds');
    assert.equal(quantiles.get(labelKey({ stage: 'x', quantile: '0.5' })), 10e-6);
    assert.equal(quantiles.get(labelKey({ stage: 'x', quantile: '0.999' })), 80e-6);
    assert.equal(quantiles.get(labelKey({ stage: 'y', quantile: '0.9' })), 40e-6);
    assert.equal(sum.get(labelKey({ stage: 'x' })), (15 * 4) / 1e6);
    assert.deepEqual([...count], [[labelKey({ stage: 'x' }), 4], [labelKey({ stage: 'y' }), 2]]);
  });
});

describe('engineExposition', () => {
  const f = parseExposition(text);

  it('default: parses as Prometheus text, typed as the names say', () => {
    assert.match(EXPOSITION_CONTENT_TYPE, /^text\/plain; version=0\.0\.4/);
    for (const [name, fam] of f) {
      if (name.endsWith('_total')) assert.equal(fam.type, 'COUNTER', name);
      else if (name.endsWith('_seconds') && name !== 'orion_uptime_seconds') assert.equal(fam.type, 'SUMMARY', name);
      else assert.equal(fam.type, 'GAUGE', name);
    }
  });

  it('behavior: per-stage families carry a stage label for every stage', () => {
    const stages = Object.keys(STATS.stages);
    for (const name of ['orion_actor_up', 'orion_actor_restarts_total', 'orion_dead_letters_total', 'orion_stage_records_total', 'orion_stage_duplicates_total', 'orion_output_drops_total']) {
      assert.deepEqual([...samples(f, name).keys()], stages.map((stage) => labelKey({ stage })), name);
    }
    assert.deepEqual(Object.fromEntries(samples(f, 'orion_actor_up')), { '{stage="ingest"}': 1, '{stage="decoder"}': 1, '{stage="simulator"}': 1, '{stage="scorer"}': 0, '{stage="submitter"}': 1 });
    assert.equal(samples(f, 'orion_actor_restarts_total').get('{stage="scorer"}'), 2);
    assert.equal(samples(f, 'orion_dead_letters_total').get('{stage="simulator"}'), 1);
    assert.equal(samples(f, 'orion_output_drops_total').get('{stage="scorer"}'), 4);
    // A source stage has no input ring.
    assert.deepEqual([...samples(f, 'orion_ring_depth_bytes').keys()], stages.filter((s) => s !== 'ingest').map((stage) => labelKey({ stage })));
    assert.equal(samples(f, 'orion_ring_capacity_bytes').get('{stage="decoder"}'), 1 << 22);
    for (const name of ['orion_stage_service_seconds', 'orion_stage_queue_wait_seconds']) {
      const { quantiles, count } = summarySamples(text, name);
      assert.equal(quantiles.size, stages.length * 4, name);
      assert.deepEqual([...count.keys()], stages.map((stage) => labelKey({ stage })), name);
    }
    assert.equal(summarySamples(text, 'orion_stage_service_seconds').quantiles.get(labelKey({ stage: 'decoder', quantile: '0.99' })), 40e-6);
  });

  it('behavior: stage-specific latencies are labelled by stage and name', () => {
    const { quantiles, count } = summarySamples(text, 'orion_stage_latency_seconds');
    assert.deepEqual([...count.keys()], [labelKey({ stage: 'decoder', name: 'firstSeenToDecoded' }), labelKey({ stage: 'scorer', name: 'firstSeenToScored' }), labelKey({ stage: 'scorer', name: 'firstSeenToVerified' })]);
    assert.equal(quantiles.get(labelKey({ stage: 'scorer', name: 'firstSeenToVerified', quantile: '0.5' })), 900e-6);
  });

  it('behavior: counters lifted out by prefix into their own families', () => {
    assert.deepEqual(Object.fromEntries(samples(f, 'orion_decode_rejections_total')), { '{code="bad-rlp"}': 3, '{code="bad-signature"}': 1 });
    assert.deepEqual(Object.fromEntries(samples(f, 'orion_decode_filtered_total')), { '{reason="no-intent"}': 500 });
    assert.deepEqual(Object.fromEntries(samples(f, 'orion_decode_intents_total')), { '{kind="v2-swap"}': 300, '{kind="v3-swap"}': 80 });
    assert.deepEqual(Object.fromEntries(samples(f, 'orion_opportunities_total')), { '{kind="backrun-arbitrage"}': 7, '{kind="v2-sandwich"}': 1 });
    assert.deepEqual(Object.fromEntries(samples(f, 'orion_verifications_total')), { '{outcome="verified"}': 6, '{outcome="rejected.revert"}': 2 });
    assert.deepEqual(Object.fromEntries(samples(f, 'orion_simulator_shed_total')), { '{reason="queue-full"}': 2 });
    assert.deepEqual(Object.fromEntries(samples(f, 'orion_ingest_source_txs_total')), { '{source="devnet"}': 900 });
    assert.deepEqual(Object.fromEntries(samples(f, 'orion_ingest_source_first_seen_total')), { '{source="devnet"}': 899 });
    assert.deepEqual(Object.fromEntries(samples(f, 'orion_ingest_source_blocks_total')), { '{source="devnet"}': 12 });
    // Every counter of every stage also appears under orion_stage_events_total.
    const events = samples(f, 'orion_stage_events_total');
    let n = 0;
    for (const [s, st] of Object.entries(STATS.stages)) {
      for (const [k, v] of Object.entries(st.counters)) {
        assert.equal(events.get(labelKey({ stage: s, event: k })), v, `${s} ${k}`);
        n++;
      }
    }
    assert.equal(events.size, n);
  });

  it('behavior: engine-wide and gateway figures', () => {
    assert.equal(samples(f, 'orion_uptime_seconds').get(''), 12.5);
    assert.equal(samples(f, 'orion_output_records_total').get(''), 880);
    const e2e = f.get('orion_end_to_end_seconds')!.metrics[0]!;
    assert.deepEqual(e2e.quantiles, { '0.5': '0.0005', '0.9': '0.001', '0.99': '0.002', '0.999': '0.004' });
    assert.equal(Number(e2e.count), 880);
    assert.equal(Number(e2e.sum), (750 * 880) / 1e6);
    assert.deepEqual(Object.fromEntries(samples(f, 'orion_opportunities_out_total')), { [labelKey({ kind: 'backrun-arbitrage', verification: 'verified' })]: 6, [labelKey({ kind: 'backrun-arbitrage', verification: 'rejected' })]: 2 });
    assert.equal(samples(f, 'orion_secp256k1_native').get(''), 1);
    assert.equal(samples(f, 'orion_head_block').get(''), 42);
    assert.equal(samples(f, 'orion_ws_clients').get(''), 3);
    assert.deepEqual(Object.fromEntries(samples(f, 'orion_ws_clients_by_encoding')), { '{encoding="json"}': 2, '{encoding="msgpack"}': 1 });
    assert.equal(samples(f, 'orion_ws_frames_sent_total').get('{topic="txs"}'), 900);
    assert.equal(samples(f, 'orion_ws_frames_dropped_total').get(''), 1);
    assert.equal(samples(f, 'orion_ws_backpressure_cuts_total').get(''), 1);
    assert.deepEqual(Object.fromEntries(samples(f, 'orion_ws_error_frames_total')), { '{code="bad-json"}': 2, '{code="rate-limited"}': 5, '{code="closed"}': 1 });
    assert.deepEqual(Object.fromEntries(samples(f, 'orion_http_refused_total')), { '{reason="missing-key"}': 1, '{reason="role"}': 2 });
    assert.equal(samples(f, 'orion_gateway_tap_drops_total').get(''), 0);
  });

  it('args: no engine stages, no head and unknown secp256k1 still make a valid exposition without those families', () => {
    const empty: EngineStats = { uptimeSec: 0, stages: {}, endToEndUs: pct(0, 0), output: { records: 0, duplicates: 0, perSecond: 0, handlerErrors: 0 } };
    const g = parseExposition(engineExposition(empty, { ...FIGURES, headBlock: null, errorFrames: {}, refused: {} }, { secp256k1Native: null, opportunitiesOut: {} }));
    for (const name of ['orion_actor_up', 'orion_head_block', 'orion_secp256k1_native', 'orion_opportunities_out_total', 'orion_ws_error_frames_total', 'orion_http_refused_total']) assert.ok(!g.has(name), name);
    assert.ok(g.has('orion_end_to_end_seconds') && g.has('orion_ws_clients'));
  });

  it('behavior: stage names and counter keys with quotes, backslashes and newlines stay one valid sample each', () => {
    const weird = 'evil"\\\nkey';
    const s = engineExposition({ ...STATS, stages: { [weird]: stage({ counters: { [weird]: 5 } }) } }, FIGURES, { secp256k1Native: false, opportunitiesOut: { [`k"\\/v\n`]: 1 } });
    const g = parseExposition(s);
    assert.equal(samples(g, 'orion_stage_events_total').get(labelKey({ stage: weird, event: weird })), 5);
    assert.equal(samples(g, 'orion_actor_up').get(labelKey({ stage: weird })), 1);
    assert.equal(samples(g, 'orion_opportunities_out_total').get(labelKey({ kind: 'k"\\', verification: 'v\n' })), 1);
  });
});
