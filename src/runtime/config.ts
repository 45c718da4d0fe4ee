import { readFileSync } from 'node:fs';
import { RouterRegistry } from '../actors/decoder/calldata/router-registry.js';
import type { DecoderConfig } from '../actors/decoder/decoder-config.js';
import { type RpcWsSourceOptions, resolveRpcWsOptions } from '../actors/ingest/sources/rpc-ws.js';

/** Optional tuning fields of an `rpc-ws` source. */
const RPC_WS_TUNING = ['fetchBatch', 'fetchDelayMs', 'backfillOnReconnect', 'recentHashes', 'maxFrameBytes', 'requestTimeoutMs', 'heartbeatMs', 'connectTimeoutMs', 'reconnect'] as const;
import type { IngestConfig } from '../actors/ingest/ingest-config.js';
import { DEFAULT_SCORER_CONFIG, type ScorerConfig } from '../actors/scorer/scorer-config.js';
import { DEFAULT_SIMULATOR_CONFIG, type SimulatorConfig } from '../actors/simulator/simulator-config.js';
import { DEFAULT_SUBMITTER_CONFIG, type SubmitterConfig } from '../actors/submitter/submitter-config.js';
import { DEFAULT_GATEWAY_CONFIG, type GatewayConfig, ROLES, apiKeysFromEnv } from '../gateway/gateway-config.js';
import type { WaitStrategyName } from './ring/wait-strategy.js';

/** A fault the synthetic stages inject on purpose, for tests of the supervisor. */
export interface FaultSpec {
  /** Stage that faults. */
  stage: string;
  /** Sequence number of the record that triggers it. */
  seq: number;
  /** `throw` an error, `exit` the thread, or `hang` in a busy loop. */
  action: 'throw' | 'exit' | 'hang';
  /** How many deliveries of the record fault; a number ≥ the poison threshold makes a poison record. */
  times: number;
}

/** Per-stage synthetic work. */
export interface SyntheticStageConfig {
  /** CPU time burnt per record, in ns (a busy loop, standing in for real work). */
  workNs: number;
}

/** The synthetic five-stage pipeline used until each real stage replaces its stand-in. */
export interface SyntheticConfig {
  /** Records per second offered by the source; 0 means as fast as the pipeline takes them. */
  rate: number;
  /** Records to emit before the source stops; 0 means no limit. */
  count: number;
  /** Payload bytes per synthetic transaction. */
  recordBytes: number;
  /** An in-band block event after every this many transactions; 0 for none. */
  blockEvery: number;
  /** When the first ring is full: `wait` (backpressure the source) or `shed` (drop and count, as real ingest does). */
  onFull: 'wait' | 'shed';
  stages: Record<'ingest' | 'decoder' | 'simulator' | 'scorer' | 'submitter', SyntheticStageConfig>;
  faults: FaultSpec[];
}

/** Engine configuration. Defaults in {@link DEFAULT_CONFIG}; checked once by {@link validateConfig}. */
export interface EngineConfig {
  /**
   * `live`: the real stages (ingest, decoder, simulator, scorer, submitter); `synthetic`: the
   * synthetic five-stage pipeline used by the runtime benchmarks.
   */
  pipeline: 'live' | 'synthetic';
  /**
   * Replay mode: every stage's output depends on its input only, never on timing or thread count.
   * The simulator sheds nothing (no age, queue or stale-head shedding, no nonce skip learned from
   * other runs) and runs each transaction on the head it arrived under; the scorer verifies every
   * plan on the head it was scored on (no stale-head rejection, no queue cap, no nonce shortcut)
   * and applies pool discovery and reconciliation at heads rather than in the background.
   * `orion capture` and `orion replay` set it; live trading leaves it off (latency first).
   */
  deterministic: boolean;
  ingest: Omit<IngestConfig, 'chainId'>;
  decoder: DecoderConfig;
  simulator: SimulatorConfig;
  scorer: ScorerConfig;
  submitter: SubmitterConfig;
  gateway: GatewayConfig;
  ring: {
    /** Data bytes per ring; a power of two. */
    capacityBytes: number;
  };
  wait: {
    /** `wait` (bounded spin, then `Atomics.wait`) or `busy-spin` (opt-in; burns a core per waiting stage). */
    strategy: WaitStrategyName;
    /** Spin this long before sleeping on the futex. */
    spinMicros: number;
  };
  /** Most records handed to one `onBatch` call. */
  batchMaxRecords: number;
  supervisor: {
    /** An idle actor still beats at least this often. */
    heartbeatIntervalMs: number;
    /** An actor whose heartbeat has not moved for this long is terminated and restarted. */
    hangTimeoutMs: number;
    /** An actor not READY within this time failed its bootstrap. */
    bootstrapTimeoutMs: number;
    /** First restart delay; doubles per consecutive crash up to `restartBackoffMaxMs`. */
    restartBackoffInitialMs: number;
    restartBackoffMaxMs: number;
    /** An incarnation that ran this long counts as recovered: the next crash starts the backoff again. */
    restartBackoffResetMs: number;
    /** More than this many restarts of one actor within `restartWindowMs` stops the engine. */
    restartBudget: number;
    restartWindowMs: number;
    /** Deaths on the same record before it goes to the dead-letter file and is skipped. */
    poisonThreshold: number;
    /** JSON-lines file of dead-lettered records. */
    deadLetterPath: string;
    /** Actors ship metrics snapshots this often. */
    metricsIntervalMs: number;
    /** Graceful stop gives each stage this long to drain before terminating it. */
    drainTimeoutMs: number;
  };
  log: {
    level: 'debug' | 'info' | 'warn' | 'error' | 'silent';
  };
  synthetic: SyntheticConfig;
}

/** Every default in one place (after piscina's `kDefaultOptions`). */
export const DEFAULT_CONFIG: EngineConfig = deepFreeze({
  pipeline: 'live',
  deterministic: false,
  ingest: {
    sources: [],
    dedupeWindow: 65_536,
    record: null,
  },
  decoder: {
    chainId: null,
    maxTxBytes: 131_072,
    routers: [],
    filter: { enabled: true, strategies: ['sandwich', 'backrun', 'arbitrage', 'liquidation'], dropExpired: true },
    senderHints: null,
  },
  simulator: DEFAULT_SIMULATOR_CONFIG,
  scorer: DEFAULT_SCORER_CONFIG,
  submitter: DEFAULT_SUBMITTER_CONFIG,
  gateway: DEFAULT_GATEWAY_CONFIG,
  ring: { capacityBytes: 1 << 22 },
  wait: { strategy: 'wait', spinMicros: 50 },
  batchMaxRecords: 256,
  supervisor: {
    heartbeatIntervalMs: 100,
    hangTimeoutMs: 5000,
    bootstrapTimeoutMs: 10_000,
    restartBackoffInitialMs: 10,
    restartBackoffMaxMs: 5000,
    restartBackoffResetMs: 1000,
    restartBudget: 10,
    restartWindowMs: 60_000,
    poisonThreshold: 3,
    deadLetterPath: '.orion/dead-letters.jsonl',
    metricsIntervalMs: 1000,
    drainTimeoutMs: 10_000,
  },
  log: { level: 'info' },
  synthetic: {
    rate: 1000,
    count: 0,
    recordBytes: 256,
    blockEvery: 1000,
    onFull: 'wait',
    stages: {
      ingest: { workNs: 0 },
      decoder: { workNs: 0 },
      simulator: { workNs: 0 },
      scorer: { workNs: 0 },
      submitter: { workNs: 0 },
    },
    faults: [],
  },
});

/** A deep partial of the config, as a file or a caller gives it. */
export type ConfigInput = DeepPartial<EngineConfig>;
type DeepPartial<T> = T extends readonly (infer U)[] ? U[] : T extends object ? { [K in keyof T]?: DeepPartial<T[K]> } : T;

/** Freezes an object graph, so actors cannot change the slice they were given. */
export function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value) && !ArrayBuffer.isView(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

/** Overlays `input` on `defaults`; unknown fields are an error naming their path. */
function merge(defaults: unknown, input: unknown, path: string): unknown {
  if (input === undefined) return structuredClone(defaults);
  const isObj = (v: unknown) => v !== null && typeof v === 'object' && !Array.isArray(v);
  if (!isObj(defaults)) return structuredClone(input);
  if (!isObj(input)) throw new TypeError(`${path} must be an object, got ${describe(input)}`);
  const out: Record<string, unknown> = {};
  const d = defaults as Record<string, unknown>;
  const i = input as Record<string, unknown>;
  for (const key of Object.keys(i)) {
    if (!Object.hasOwn(d, key)) throw new TypeError(`${path}.${key} is not a config field (known: ${Object.keys(d).join(', ')})`);
  }
  for (const key of Object.keys(d)) out[key] = merge(d[key], i[key], `${path}.${key}`);
  return out;
}

function describe(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v);
  if (Array.isArray(v)) return 'an array';
  return v === null ? 'null' : typeof v === 'object' ? 'an object' : String(v);
}

function int(v: unknown, path: string, min: number, max = Number.MAX_SAFE_INTEGER): void {
  if (typeof v !== 'number' || !Number.isInteger(v)) throw new TypeError(`${path} must be an integer, got ${describe(v)}`);
  if (v < min || v > max) throw new RangeError(`${path} must be between ${min} and ${max}, got ${v}`);
}

function oneOf(v: unknown, path: string, allowed: readonly string[]): void {
  if (typeof v !== 'string' || !allowed.includes(v)) {
    throw new TypeError(`${path} must be one of ${allowed.map((a) => JSON.stringify(a)).join(', ')}, got ${describe(v)}`);
  }
}

const STAGES = ['ingest', 'decoder', 'simulator', 'scorer', 'submitter'] as const;

/**
 * Merges `input` over the defaults and checks every field once, at start-up. Throws a `TypeError`
 * or `RangeError` whose message starts with the offending field's path (`config.ring.capacityBytes …`).
 */
export function validateConfig(input: ConfigInput = {}): EngineConfig {
  const c = merge(DEFAULT_CONFIG, input, 'config') as EngineConfig;
  oneOf(c.pipeline, 'config.pipeline', ['live', 'synthetic']);
  if (typeof c.deterministic !== 'boolean') throw new TypeError(`config.deterministic must be a boolean, got ${describe(c.deterministic)}`);
  validateIngest(c.ingest);
  validateDecoder(c.decoder);
  validateSimulator(c.simulator);
  validateScorer(c.scorer);
  validateSubmitter(c.submitter);
  validateGateway(c.gateway);
  const cap = c.ring.capacityBytes;
  int(cap, 'config.ring.capacityBytes', 1024, 1 << 30);
  if ((cap & (cap - 1)) !== 0) throw new RangeError(`config.ring.capacityBytes must be a power of two, got ${cap}`);
  oneOf(c.wait.strategy, 'config.wait.strategy', ['wait', 'busy-spin']);
  int(c.wait.spinMicros, 'config.wait.spinMicros', 0, 1_000_000);
  int(c.batchMaxRecords, 'config.batchMaxRecords', 1, 65_536);
  const s = c.supervisor;
  int(s.heartbeatIntervalMs, 'config.supervisor.heartbeatIntervalMs', 1, 60_000);
  int(s.hangTimeoutMs, 'config.supervisor.hangTimeoutMs', 1, 3_600_000);
  if (s.hangTimeoutMs <= s.heartbeatIntervalMs) {
    throw new RangeError(`config.supervisor.hangTimeoutMs (${s.hangTimeoutMs}) must exceed config.supervisor.heartbeatIntervalMs (${s.heartbeatIntervalMs})`);
  }
  int(s.bootstrapTimeoutMs, 'config.supervisor.bootstrapTimeoutMs', 1, 3_600_000);
  int(s.restartBackoffInitialMs, 'config.supervisor.restartBackoffInitialMs', 0, 3_600_000);
  int(s.restartBackoffMaxMs, 'config.supervisor.restartBackoffMaxMs', s.restartBackoffInitialMs, 3_600_000);
  int(s.restartBackoffResetMs, 'config.supervisor.restartBackoffResetMs', 0, 3_600_000);
  int(s.restartBudget, 'config.supervisor.restartBudget', 0, 1_000_000);
  int(s.restartWindowMs, 'config.supervisor.restartWindowMs', 1, 86_400_000);
  int(s.poisonThreshold, 'config.supervisor.poisonThreshold', 1, 1000);
  if (typeof s.deadLetterPath !== 'string' || s.deadLetterPath.length === 0) {
    throw new TypeError(`config.supervisor.deadLetterPath must be a non-empty file path, got ${describe(s.deadLetterPath)}`);
  }
  int(s.metricsIntervalMs, 'config.supervisor.metricsIntervalMs', 10, 3_600_000);
  int(s.drainTimeoutMs, 'config.supervisor.drainTimeoutMs', 1, 3_600_000);
  oneOf(c.log.level, 'config.log.level', ['debug', 'info', 'warn', 'error', 'silent']);
  const y = c.synthetic;
  int(y.rate, 'config.synthetic.rate', 0, 100_000_000);
  int(y.count, 'config.synthetic.count', 0);
  int(y.recordBytes, 'config.synthetic.recordBytes', 0, cap / 2);
  int(y.blockEvery, 'config.synthetic.blockEvery', 0);
  oneOf(y.onFull, 'config.synthetic.onFull', ['wait', 'shed']);
  for (const stage of STAGES) int(y.stages[stage].workNs, `config.synthetic.stages.${stage}.workNs`, 0, 1_000_000_000);
  if (!Array.isArray(y.faults)) throw new TypeError(`config.synthetic.faults must be an array, got ${describe(y.faults)}`);
  y.faults.forEach((f, i) => {
    const p = `config.synthetic.faults[${i}]`;
    if (f === null || typeof f !== 'object') throw new TypeError(`${p} must be an object, got ${describe(f)}`);
    for (const key of Object.keys(f)) {
      if (!['stage', 'seq', 'action', 'times'].includes(key)) throw new TypeError(`${p}.${key} is not a config field (known: stage, seq, action, times)`);
    }
    oneOf(f.stage, `${p}.stage`, STAGES);
    int(f.seq, `${p}.seq`, 0);
    oneOf(f.action, `${p}.action`, ['throw', 'exit', 'hang']);
    int(f.times, `${p}.times`, 1);
  });
  return deepFreeze(c);
}

function str(v: unknown, path: string): void {
  if (typeof v !== 'string' || v.length === 0) throw new TypeError(`${path} must be a non-empty string, got ${describe(v)}`);
}

function fields(v: unknown, path: string, known: readonly string[]): Record<string, unknown> {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new TypeError(`${path} must be an object, got ${describe(v)}`);
  for (const key of Object.keys(v)) if (!known.includes(key)) throw new TypeError(`${path}.${key} is not a config field (known: ${known.join(', ')})`);
  return v as Record<string, unknown>;
}

function validateIngest(g: EngineConfig['ingest']): void {
  if (!Array.isArray(g.sources)) throw new TypeError(`config.ingest.sources must be an array, got ${describe(g.sources)}`);
  const names = new Set<string>();
  g.sources.forEach((src, i) => {
    const p = `config.ingest.sources[${i}]`;
    const o = fields(src, p, ['kind', 'name', 'url', 'mode', 'path', 'speed', ...RPC_WS_TUNING]);
    oneOf(o.kind, `${p}.kind`, ['rpc-ws', 'capture']);
    str(o.name, `${p}.name`);
    if (!/^[A-Za-z0-9_-]+$/.test(o.name as string)) throw new TypeError(`${p}.name must use letters, digits, - and _ only (it names metrics), got ${describe(o.name)}`);
    if (names.has(o.name as string)) throw new TypeError(`${p}.name ${describe(o.name)} is used by another source`);
    names.add(o.name as string);
    if (o.kind === 'rpc-ws') {
      str(o.url, `${p}.url`);
      if (!/^wss?:\/\//.test(o.url as string)) throw new TypeError(`${p}.url must be a ws:// or wss:// URL, got ${describe(o.url)}`);
      oneOf(o.mode, `${p}.mode`, ['auto', 'full', 'hashes']);
      try {
        resolveRpcWsOptions(o as unknown as RpcWsSourceOptions);
      } catch (err) {
        // The source names the field (`rpc-ws: fetchBatch must be …`); say which source it is.
        throw new (err instanceof RangeError ? RangeError : TypeError)(`${p}.${(err as Error).message.replace(/^rpc-ws: /, '')}`);
      }
    } else {
      for (const key of RPC_WS_TUNING) if (key in o) throw new TypeError(`${p}.${key} is not a config field of a capture source`);
      str(o.path, `${p}.path`);
      if (o.speed !== 'max' && !(typeof o.speed === 'number' && o.speed > 0 && Number.isFinite(o.speed))) {
        throw new TypeError(`${p}.speed must be "max" or a positive number (1 = recorded pace), got ${describe(o.speed)}`);
      }
    }
  });
  int(g.dedupeWindow, 'config.ingest.dedupeWindow', 1, 1 << 24);
  if (g.record !== null) {
    const r = fields(g.record, 'config.ingest.record', ['dir', 'segmentBytes', 'retainBytes', 'segmentMs', 'retainMs']);
    str(r.dir, 'config.ingest.record.dir');
    int(r.segmentBytes, 'config.ingest.record.segmentBytes', 4096);
    int(r.retainBytes, 'config.ingest.record.retainBytes', 0);
    if (r.segmentMs !== undefined) int(r.segmentMs, 'config.ingest.record.segmentMs', 0);
    if (r.retainMs !== undefined) int(r.retainMs, 'config.ingest.record.retainMs', 0);
  }
}

function validateDecoder(d: DecoderConfig): void {
  if (d.chainId !== null) int(d.chainId, 'config.decoder.chainId', 1);
  int(d.maxTxBytes, 'config.decoder.maxTxBytes', 128, 16 << 20);
  if (!Array.isArray(d.routers)) throw new TypeError(`config.decoder.routers must be an array, got ${describe(d.routers)}`);
  d.routers.forEach((r, i) => {
    const o = fields(r, `config.decoder.routers[${i}]`, ['address', 'kind', 'name', 'v2Factory', 'v2InitCodeHash', 'v3Factory', 'v3InitCodeHash', 'weth']);
    if (typeof o.address !== 'string' || !/^0x[0-9a-fA-F]{40}$/.test(o.address)) {
      throw new TypeError(`config.decoder.routers[${i}].address must be a 0x-prefixed 20-byte hex address, got ${describe(o.address)}`);
    }
    oneOf(o.kind, `config.decoder.routers[${i}].kind`, ['v2-router02', 'v3-swaprouter', 'v3-swaprouter02', 'universal-router', 'v2-pair']);
    try {
      new RouterRegistry([r], []);
    } catch (err) {
      throw new TypeError(`config.decoder.routers[${i}] is invalid: ${(err as Error).message}`);
    }
  });
  if (!Array.isArray(d.filter.strategies)) throw new TypeError(`config.decoder.filter.strategies must be an array, got ${describe(d.filter.strategies)}`);
  d.filter.strategies.forEach((s, i) => oneOf(s, `config.decoder.filter.strategies[${i}]`, ['sandwich', 'backrun', 'arbitrage', 'liquidation']));
  if (typeof d.filter.enabled !== 'boolean') throw new TypeError(`config.decoder.filter.enabled must be true or false, got ${describe(d.filter.enabled)}`);
  if (typeof d.filter.dropExpired !== 'boolean') throw new TypeError(`config.decoder.filter.dropExpired must be true or false, got ${describe(d.filter.dropExpired)}`);
  if (d.senderHints != null && (typeof d.senderHints !== 'string' || d.senderHints === '')) throw new TypeError(`config.decoder.senderHints must be a file path or null, got ${describe(d.senderHints)}`);
}

const ADDRESS = /^0x[0-9a-fA-F]{40}$/;

function address(v: unknown, path: string): void {
  if (typeof v !== 'string' || !ADDRESS.test(v)) throw new TypeError(`${path} must be a 0x-prefixed 20-byte hex address, got ${describe(v)}`);
}

function bool(v: unknown, path: string): void {
  if (typeof v !== 'boolean') throw new TypeError(`${path} must be true or false, got ${describe(v)}`);
}

function httpUrl(v: unknown, path: string): void {
  if (v === null) return;
  if (typeof v !== 'string' || !/^https?:\/\//.test(v)) throw new TypeError(`${path} must be an http:// or https:// JSON-RPC URL or null, got ${describe(v)}`);
}

function weiString(v: unknown, path: string): void {
  if (typeof v !== 'string' || !/^[0-9]+$/.test(v)) throw new TypeError(`${path} must be a decimal string of wei, got ${describe(v)}`);
}

const HARDFORKS = ['auto', 'london', 'paris', 'shanghai', 'cancun', 'prague', 'osaka'];

function validateSimulator(s: SimulatorConfig): void {
  httpUrl(s.rpcUrl, 'config.simulator.rpcUrl');
  int(s.threads, 'config.simulator.threads', 0, 256);
  oneOf(s.hardfork, 'config.simulator.hardfork', HARDFORKS);
  if (s.chainId !== null) int(s.chainId, 'config.simulator.chainId', 1);
  int(s.maxPending, 'config.simulator.maxPending', 1, 1 << 20);
  int(s.maxAgeMs, 'config.simulator.maxAgeMs', 0, 3_600_000);
  bool(s.evm, 'config.simulator.evm');
}

function validateScorer(s: ScorerConfig): void {
  httpUrl(s.rpcUrl, 'config.scorer.rpcUrl');
  address(s.weth, 'config.scorer.weth');
  if (!Array.isArray(s.v2Factories)) throw new TypeError(`config.scorer.v2Factories must be an array, got ${describe(s.v2Factories)}`);
  s.v2Factories.forEach((f, i) => {
    const p = `config.scorer.v2Factories[${i}]`;
    const o = fields(f, p, ['address', 'feeBps', 'router']);
    address(o.address, `${p}.address`);
    int(o.feeBps, `${p}.feeBps`, 0, 9999);
    if (o.router !== null) address(o.router, `${p}.router`);
  });
  if (!Array.isArray(s.v2Pairs)) throw new TypeError(`config.scorer.v2Pairs must be an array, got ${describe(s.v2Pairs)}`);
  s.v2Pairs.forEach((a, i) => address(a, `config.scorer.v2Pairs[${i}]`));
  if (!Array.isArray(s.v3Factories)) throw new TypeError(`config.scorer.v3Factories must be an array, got ${describe(s.v3Factories)}`);
  s.v3Factories.forEach((f, i) => {
    const p = `config.scorer.v3Factories[${i}]`;
    const o = fields(f, p, ['address', 'router']);
    address(o.address, `${p}.address`);
    address(o.router, `${p}.router`);
  });
  int(s.v3WordsAround, 'config.scorer.v3WordsAround', 0, 64);
  if (s.discoverFromBlock !== null) int(s.discoverFromBlock, 'config.scorer.discoverFromBlock', 0);
  if (!Array.isArray(s.strategies)) throw new TypeError(`config.scorer.strategies must be an array, got ${describe(s.strategies)}`);
  s.strategies.forEach((x, i) => oneOf(x, `config.scorer.strategies[${i}]`, ['v2-sandwich', 'backrun-arbitrage']));
  weiString(s.minNetProfitWei, 'config.scorer.minNetProfitWei');
  if (s.searcher !== null) address(s.searcher, 'config.scorer.searcher');
  bool(s.verify, 'config.scorer.verify');
  int(s.verifyThreads, 'config.scorer.verifyThreads', 0, 256);
  int(s.verifyPerBlock, 'config.scorer.verifyPerBlock', 0, 1_000_000);
  int(s.verifyMaxQueue, 'config.scorer.verifyMaxQueue', 0, 1_000_000);
  int(s.maxCyclesPerPool, 'config.scorer.maxCyclesPerPool', 1, 100_000);
  int(s.reconcilePerBlock, 'config.scorer.reconcilePerBlock', 0, 1_000_000);
  weiString(s.gas.priorityFeeWei, 'config.scorer.gas.priorityFeeWei');
  weiString(s.gas.frontrunBumpWei, 'config.scorer.gas.frontrunBumpWei');
  int(s.gas.limitHeadroomPct, 'config.scorer.gas.limitHeadroomPct', 0, 1000);
  oneOf(s.hardfork, 'config.scorer.hardfork', HARDFORKS);
  if (s.chainId !== null) int(s.chainId, 'config.scorer.chainId', 1);
}

function validateSubmitter(s: SubmitterConfig): void {
  const p = 'config.submitter';
  oneOf(s.mode, `${p}.mode`, ['auto', 'dry-run']);
  oneOf(s.strategy, `${p}.strategy`, ['hybrid', 'flashbots', 'mev-blocker', 'private-rpc']);
  if (!Array.isArray(s.relays)) throw new TypeError(`${p}.relays must be an array, got ${describe(s.relays)}`);
  const names = new Set<string>();
  s.relays.forEach((r, i) => {
    const o = fields(r, `${p}.relays[${i}]`, ['name', 'url']);
    str(o.name, `${p}.relays[${i}].name`);
    if (names.has(o.name as string)) throw new TypeError(`${p}.relays[${i}].name ${describe(o.name)} is used by another relay`);
    names.add(o.name as string);
    httpUrl(o.url, `${p}.relays[${i}].url`);
    if (o.url === null) throw new TypeError(`${p}.relays[${i}].url must be an http:// or https:// URL`);
  });
  httpUrl(s.mevBlockerUrl, `${p}.mevBlockerUrl`);
  if (s.privateRpc !== null) {
    const o = fields(s.privateRpc, `${p}.privateRpc`, ['url', 'method']);
    httpUrl(o.url, `${p}.privateRpc.url`);
    if (o.url === null) throw new TypeError(`${p}.privateRpc.url must be an http:// or https:// URL`);
    oneOf(o.method, `${p}.privateRpc.method`, ['eth_sendRawTransaction', 'eth_sendPrivateTransaction']);
  }
  httpUrl(s.publicRpcUrl, `${p}.publicRpcUrl`);
  bool(s.allowPublic, `${p}.allowPublic`);
  int(s.targetBlocks, `${p}.targetBlocks`, 1, 25);
  bool(s.callBundle, `${p}.callBundle`);
  fields(s.hybrid, `${p}.hybrid`, ['largeUsd', 'mediumUsd']);
  for (const k of ['largeUsd', 'mediumUsd'] as const) {
    if (typeof s.hybrid[k] !== 'number' || !(s.hybrid[k] >= 0)) throw new TypeError(`${p}.hybrid.${k} must be a non-negative number of USD, got ${describe(s.hybrid[k])}`);
  }
  if (s.hybrid.mediumUsd > s.hybrid.largeUsd) throw new RangeError(`${p}.hybrid.mediumUsd (${s.hybrid.mediumUsd}) must not exceed ${p}.hybrid.largeUsd (${s.hybrid.largeUsd})`);
  if (typeof s.ethUsd !== 'number' || !(s.ethUsd > 0)) throw new TypeError(`${p}.ethUsd must be a positive number, got ${describe(s.ethUsd)}`);
  const b = fields(s.builderPayment, `${p}.builderPayment`, ['mode', 'shareBps', 'builder']);
  oneOf(b.mode, `${p}.builderPayment.mode`, ['priority-fee', 'coinbase-transfer']);
  int(b.shareBps, `${p}.builderPayment.shareBps`, 0, 10_000);
  if (b.builder !== null) address(b.builder, `${p}.builderPayment.builder`);
  if (b.mode === 'coinbase-transfer' && b.builder === null) throw new TypeError(`${p}.builderPayment.builder: a coinbase-transfer payment needs the builder's fee recipient address`);
  bool(s.submitUnverified, `${p}.submitUnverified`);
  const k = fields(s.breaker, `${p}.breaker`, ['failureThreshold', 'errorRate', 'minRequests', 'windowMs', 'cooldownMs']);
  int(k.failureThreshold, `${p}.breaker.failureThreshold`, 1, 1_000_000);
  if (typeof k.errorRate !== 'number' || !(k.errorRate > 0 && k.errorRate <= 1)) throw new TypeError(`${p}.breaker.errorRate must be in (0, 1], got ${describe(k.errorRate)}`);
  int(k.minRequests, `${p}.breaker.minRequests`, 1, 1_000_000);
  int(k.windowMs, `${p}.breaker.windowMs`, 1, 86_400_000);
  int(k.cooldownMs, `${p}.breaker.cooldownMs`, 1, 86_400_000);
  const g = fields(s.guard, `${p}.guard`, ['maxLossWei', 'maxRevertRate', 'minOutcomes', 'windowMs']);
  weiString(g.maxLossWei, `${p}.guard.maxLossWei`);
  if (typeof g.maxRevertRate !== 'number' || !(g.maxRevertRate > 0 && g.maxRevertRate <= 1)) throw new TypeError(`${p}.guard.maxRevertRate must be in (0, 1], got ${describe(g.maxRevertRate)}`);
  int(g.minOutcomes, `${p}.guard.minOutcomes`, 1, 1_000_000);
  int(g.windowMs, `${p}.guard.windowMs`, 1, 30 * 86_400_000);
  if (s.ledgerPath !== null) str(s.ledgerPath, `${p}.ledgerPath`);
  const q = fields(s.queue, `${p}.queue`, ['concurrency', 'maxAttempts', 'backoffMs', 'maxBackoffMs', 'jitter', 'seed']);
  int(q.concurrency, `${p}.queue.concurrency`, 1, 1024);
  int(q.maxAttempts, `${p}.queue.maxAttempts`, 1, 100);
  int(q.backoffMs, `${p}.queue.backoffMs`, 0, 600_000);
  int(q.maxBackoffMs, `${p}.queue.maxBackoffMs`, q.backoffMs as number, 600_000);
  if (typeof q.jitter !== 'number' || !(q.jitter >= 0 && q.jitter <= 1)) throw new TypeError(`${p}.queue.jitter must be a number in [0, 1], got ${describe(q.jitter)}`);
  int(q.seed, `${p}.queue.seed`, 0, 0xffff_ffff);
  const r = fields(s.replacement, `${p}.replacement`, ['afterBlocks', 'feeBumpPct', 'maxReplacements', 'cancelExpired']);
  int(r.afterBlocks, `${p}.replacement.afterBlocks`, 0, 1000);
  // Nodes refuse a replacement that does not raise both fee fields by 10% (geth's price bump).
  int(r.feeBumpPct, `${p}.replacement.feeBumpPct`, 10, 1000);
  int(r.maxReplacements, `${p}.replacement.maxReplacements`, 0, 100);
  bool(r.cancelExpired, `${p}.replacement.cancelExpired`);
  int(s.requestTimeoutMs, `${p}.requestTimeoutMs`, 1, 600_000);
  httpUrl(s.rpcUrl, `${p}.rpcUrl`);
  if (s.chainId !== null) int(s.chainId, `${p}.chainId`, 1);
}

function validateGateway(g: GatewayConfig): void {
  bool(g.enabled, 'config.gateway.enabled');
  str(g.host, 'config.gateway.host');
  int(g.port, 'config.gateway.port', 0, 65_535);
  if (!Array.isArray(g.apiKeys)) throw new TypeError(`config.gateway.apiKeys must be an array, got ${describe(g.apiKeys)}`);
  const names = new Set<string>();
  g.apiKeys.forEach((k, i) => {
    const p = `config.gateway.apiKeys[${i}]`;
    const o = fields(k, p, ['name', 'role', 'sha256', 'key']);
    if ('key' in o) throw new TypeError(`${p}.key: a config file holds only a key's sha256 (\`orion key\` prints it); pass keys themselves in ORION_API_KEYS`);
    str(o.name, `${p}.name`);
    if (names.has(o.name as string)) throw new TypeError(`${p}.name ${describe(o.name)} is used by another key`);
    names.add(o.name as string);
    oneOf(o.role, `${p}.role`, ROLES);
    if (typeof o.sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(o.sha256)) throw new TypeError(`${p}.sha256 must be 64 lowercase hex digits (the key's SHA-256), got ${describe(o.sha256)}`);
  });
  int(g.maxFrameBytes, 'config.gateway.maxFrameBytes', 64, 16 << 20);
  int(g.maxBackpressureBytes, 'config.gateway.maxBackpressureBytes', 1024, 1 << 30);
  int(g.opsPerSecond, 'config.gateway.opsPerSecond', 1, 1_000_000);
  int(g.opsBurst, 'config.gateway.opsBurst', 1, 1_000_000);
  int(g.maxErrors, 'config.gateway.maxErrors', 1, 1_000_000);
  int(g.errorWindowMs, 'config.gateway.errorWindowMs', 1, 3_600_000);
  int(g.idleTimeoutSec, 'config.gateway.idleTimeoutSec', 8, 3600);
  int(g.statsIntervalMs, 'config.gateway.statsIntervalMs', 50, 3_600_000);
  int(g.recentOpportunities, 'config.gateway.recentOpportunities', 0, 10_000);
  int(g.shutdownGraceMs, 'config.gateway.shutdownGraceMs', 0, 600_000);
}

/** Environment variables read at boot, and the field each sets. */
export const ENV_FIELDS = {
  ORION_WAIT_STRATEGY: 'wait.strategy',
  ORION_LOG_LEVEL: 'log.level',
  ORION_DEAD_LETTER_PATH: 'supervisor.deadLetterPath',
} as const;

/**
 * Builds the config at boot from an optional JSON file, explicit overrides, and the environment
 * (read here and nowhere else). Precedence: overrides > environment > file > defaults.
 */
export function loadConfig(opts: { file?: string; overrides?: ConfigInput; env?: NodeJS.ProcessEnv } = {}): EngineConfig {
  let fromFile: ConfigInput = {};
  if (opts.file) {
    let text: string;
    try {
      text = readFileSync(opts.file, 'utf8');
    } catch (err) {
      throw new TypeError(`config file ${opts.file} cannot be read: ${(err as Error).message}`);
    }
    try {
      fromFile = JSON.parse(text) as ConfigInput;
    } catch (err) {
      throw new TypeError(`config file ${opts.file} is not valid JSON: ${(err as Error).message}`);
    }
    if (fromFile === null || typeof fromFile !== 'object' || Array.isArray(fromFile)) {
      throw new TypeError(`config file ${opts.file} must hold a JSON object, got ${describe(fromFile)}`);
    }
  }
  const env = opts.env ?? {};
  let merged = merge(DEFAULT_CONFIG, fromFile, 'config') as Record<string, unknown>;
  for (const [name, field] of Object.entries(ENV_FIELDS)) {
    const value = env[name];
    if (value !== undefined && value !== '') merged = setPath(merged, field, value);
  }
  merged = merge(merged, opts.overrides ?? {}, 'config') as Record<string, unknown>;
  // Secrets only from the environment: API keys are hashed here and join the file's hashed ones.
  const keys = env.ORION_API_KEYS;
  if (keys !== undefined && keys !== '') {
    const gw = merged.gateway as GatewayConfig;
    merged = setPath(merged, 'gateway.apiKeys', [...gw.apiKeys, ...apiKeysFromEnv(keys)]);
  }
  return validateConfig(merged as ConfigInput);
}

function setPath(obj: Record<string, unknown>, path: string, value: unknown): Record<string, unknown> {
  const keys = path.split('.');
  const out = structuredClone(obj);
  let at = out;
  for (const k of keys.slice(0, -1)) at = at[k] as Record<string, unknown>;
  at[keys[keys.length - 1]!] = value;
  return out;
}
