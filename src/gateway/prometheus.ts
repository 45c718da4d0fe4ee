/**
 * Prometheus text exposition (format 0.0.4) of the engine's and the gateway's figures, for
 * `GET /metrics`. Latencies are summaries (quantiles 0.5, 0.9, 0.99, 0.999 with _sum and _count)
 * because the engine keeps HDR histograms and ships their percentiles across threads.
 */
import type { SubmitterState } from '../actors/submitter/control.js';
import type { EngineStats } from '../engine.js';
import type { Percentiles } from '../runtime/metrics.js';

type Labels = Record<string, string>;

function escapeLabel(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

function fmtLabels(labels: Labels): string {
  const keys = Object.keys(labels);
  if (keys.length === 0) return '';
  return `{${keys.map((k) => `${k}="${escapeLabel(labels[k]!)}"`).join(',')}}`;
}

function fmtValue(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return String(v);
}

/** Builds an exposition: each metric family's HELP and TYPE once, then its samples. */
export class Exposition {
  private readonly families = new Map<string, { help: string; type: 'counter' | 'gauge' | 'summary'; lines: string[] }>();

  private family(name: string, type: 'counter' | 'gauge' | 'summary', help: string) {
    let f = this.families.get(name);
    if (f === undefined) this.families.set(name, (f = { help, type, lines: [] }));
    return f;
  }

  counter(name: string, help: string, value: number, labels: Labels = {}): this {
    this.family(name, 'counter', help).lines.push(`${name}${fmtLabels(labels)} ${fmtValue(value)}`);
    return this;
  }

  gauge(name: string, help: string, value: number, labels: Labels = {}): this {
    this.family(name, 'gauge', help).lines.push(`${name}${fmtLabels(labels)} ${fmtValue(value)}`);
    return this;
  }

  /** A latency summary in seconds from µs percentiles. */
  summaryUs(name: string, help: string, p: Percentiles, labels: Labels = {}): this {
    const f = this.family(name, 'summary', help);
    const q: [string, number][] = [
      ['0.5', p.p50],
      ['0.9', p.p90],
      ['0.99', p.p99],
      ['0.999', p.p999],
    ];
    for (const [quantile, us] of q) f.lines.push(`${name}${fmtLabels({ ...labels, quantile })} ${fmtValue(us / 1e6)}`);
    f.lines.push(`${name}_sum${fmtLabels(labels)} ${fmtValue((p.mean * p.count) / 1e6)}`);
    f.lines.push(`${name}_count${fmtLabels(labels)} ${fmtValue(p.count)}`);
    return this;
  }

  toString(): string {
    let out = '';
    for (const [name, f] of this.families) {
      out += `# HELP ${name} ${f.help.replace(/\\/g, '\\\\').replace(/\n/g, '\\n')}\n# TYPE ${name} ${f.type}\n`;
      for (const l of f.lines) out += `${l}\n`;
    }
    return out;
  }
}

/** The `Content-Type` of {@link Exposition} text. */
export const EXPOSITION_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

/** What the gateway itself counts, for {@link engineExposition}. */
export interface GatewayFigures {
  clients: number;
  clientsByEncoding: Record<string, number>;
  framesSent: Record<string, number>;
  framesDropped: number;
  backpressureCuts: number;
  errorFrames: Record<string, number>;
  refused: Record<string, number>;
  tapDrops: number;
  headBlock: number | null;
}

/** Actor statuses that count as up. */
const UP = new Set(['running']);

/** Counter families lifted out of the stages' generic counters, by prefix. */
const KEYED: { stage: string; prefix: string; metric: string; label: string; help: string }[] = [
  { stage: 'decoder', prefix: 'reject.', metric: 'orion_decode_rejections_total', label: 'code', help: 'Transactions the decoder rejected, by error code' },
  { stage: 'decoder', prefix: 'filtered.', metric: 'orion_decode_filtered_total', label: 'reason', help: 'Decoded transactions the early filter dropped, by reason' },
  { stage: 'decoder', prefix: 'intent.', metric: 'orion_decode_intents_total', label: 'kind', help: 'Swap intents the decoder classified, by kind' },
  { stage: 'scorer', prefix: 'opportunity.', metric: 'orion_opportunities_total', label: 'kind', help: 'Opportunities scored, by kind' },
  { stage: 'scorer', prefix: 'verify.', metric: 'orion_verifications_total', label: 'outcome', help: 'Verification events of the scorer (verified, rejected, skipped), by outcome' },
  { stage: 'simulator', prefix: 'shed.', metric: 'orion_simulator_shed_total', label: 'reason', help: 'Transactions the simulator shed, by reason' },
];

/** Builds `GET /metrics` from the engine's stats and the gateway's figures. */
export function engineExposition(s: EngineStats, g: GatewayFigures, extra: { secp256k1Native: boolean | null; opportunitiesOut: Record<string, number>; submitter?: SubmitterState | null }): string {
  const x = new Exposition();
  x.gauge('orion_uptime_seconds', 'Seconds since the engine started', s.uptimeSec);
  for (const [stage, st] of Object.entries(s.stages)) {
    const l = { stage };
    x.gauge('orion_actor_up', 'Whether the stage actor is running (1) or starting, restarting, stopped or failed (0)', UP.has(st.status) ? 1 : 0, l);
    x.counter('orion_actor_restarts_total', 'Restarts of the stage actor', st.restarts, l);
    x.counter('orion_dead_letters_total', 'Records dead-lettered by the stage (poison records)', st.deadLetters, l);
    x.counter('orion_stage_records_total', 'Records the stage handled', st.records, l);
    x.counter('orion_stage_duplicates_total', 'Redelivered records the stage skipped', st.duplicates, l);
    x.counter('orion_output_drops_total', 'Records the stage dropped because an output ring was full', st.outputDrops, l);
    if (st.ring !== null) {
      x.gauge('orion_ring_depth_bytes', "Bytes waiting in the stage's input ring", st.ring.depthBytes, l);
      x.gauge('orion_ring_capacity_bytes', "Capacity of the stage's input ring", st.ring.capacityBytes, l);
      x.counter('orion_ring_drops_total', "Records dropped at the stage's input ring", st.ring.drops, l);
    }
    x.summaryUs('orion_stage_service_seconds', 'Service time per record', st.serviceUs, l);
    x.summaryUs('orion_stage_queue_wait_seconds', 'Time from enqueue on the input ring to dequeue', st.queueWaitUs, l);
    for (const [name, p] of Object.entries(st.histogramsUs)) x.summaryUs('orion_stage_latency_seconds', 'Stage-specific latencies (first seen to decoded, simulated, scored, verified; EVM service time, …)', p, { stage, name });
    for (const k of KEYED) {
      if (k.stage !== stage) continue;
      for (const [key, v] of Object.entries(st.counters)) if (key.startsWith(k.prefix)) x.counter(k.metric, k.help, v, { [k.label]: key.slice(k.prefix.length) });
    }
    if (stage === 'ingest') {
      // Per-source coverage: how many txs each source delivered, and how many it delivered first.
      for (const [key, v] of Object.entries(st.counters)) {
        const m = /^source\.([A-Za-z0-9_-]+)\.(txs|first|blocks)$/.exec(key);
        if (m) x.counter(`orion_ingest_source_${m[2] === 'first' ? 'first_seen' : m[2]}_total`, m[2] === 'first' ? 'Transactions this source delivered before any other source' : `${m[2] === 'txs' ? 'Transactions' : 'Block headers'} this source delivered`, v, { source: m[1]! });
      }
    }
    for (const [key, v] of Object.entries(st.counters)) x.counter('orion_stage_events_total', 'Every counter of every stage, by stage and event name', v, { stage, event: key });
  }
  x.summaryUs('orion_end_to_end_seconds', 'First seen to taken off the last ring by the main thread', s.endToEndUs);
  x.counter('orion_output_records_total', 'Records the main thread took off the last ring', s.output.records);
  for (const [kind, n] of Object.entries(extra.opportunitiesOut)) x.counter('orion_opportunities_out_total', 'Opportunities that left the pipeline, by kind and verification', n, { kind: kind.split('/')[0]!, verification: kind.split('/')[1] ?? '' });
  if (extra.submitter) {
    const sub = extra.submitter;
    x.gauge('orion_submitter_live', 'Whether the submitter sends (1: a key is loaded, mode auto) or runs dry (0)', sub.live ? 1 : 0);
    x.gauge('orion_submitter_paused', 'Whether submission is paused (1), by whom', sub.paused === 'running' ? 0 : 1, { by: sub.paused === 'running' ? 'none' : sub.paused });
    for (const [route, state] of Object.entries(sub.breakers)) x.gauge('orion_route_breaker_open', 'Circuit breaker of a route: 0 closed, 1 open, 0.5 half-open', state === 'open' ? 1 : state === 'half-open' ? 0.5 : 0, { route });
    x.gauge('orion_submitter_queue_depth', 'Submissions waiting in the send queue (for a send slot or a retry)', sub.queueDepth);
    x.gauge('orion_submitter_sends_in_flight', 'Submissions being built, signed and sent', sub.sendsInFlight);
  }
  if (extra.secp256k1Native !== null) x.gauge('orion_secp256k1_native', 'Whether sender recovery uses the native libsecp256k1 binding', extra.secp256k1Native ? 1 : 0);
  if (g.headBlock !== null) x.gauge('orion_head_block', 'Latest block number the engine saw', g.headBlock);
  x.gauge('orion_ws_clients', 'Connected websocket clients', g.clients);
  for (const [enc, n] of Object.entries(g.clientsByEncoding)) x.gauge('orion_ws_clients_by_encoding', 'Connected websocket clients by frame encoding', n, { encoding: enc });
  for (const [topic, n] of Object.entries(g.framesSent)) x.counter('orion_ws_frames_sent_total', 'Frames sent to websocket clients, by topic', n, { topic });
  x.counter('orion_ws_frames_dropped_total', 'Frames dropped at a backpressure limit', g.framesDropped);
  x.counter('orion_ws_backpressure_cuts_total', 'Clients cut at the backpressure limit', g.backpressureCuts);
  for (const [code, n] of Object.entries(g.errorFrames)) x.counter('orion_ws_error_frames_total', 'Error frames sent, by code', n, { code });
  for (const [reason, n] of Object.entries(g.refused)) x.counter('orion_http_refused_total', 'Requests refused (401 no or bad key, 403 role), by reason', n, { reason });
  x.counter('orion_gateway_tap_drops_total', 'Decoded transactions the txs topic missed because its ring was full', g.tapDrops);
  return x.toString();
}
