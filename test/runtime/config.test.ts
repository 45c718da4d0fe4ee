import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { type ConfigInput, DEFAULT_CONFIG, ENV_FIELDS, type EngineConfig, loadConfig, validateConfig } from '../../src/runtime/config.js';

type ErrorType = TypeErrorConstructor | RangeErrorConstructor;

/** `{a: {b: value}}` from `'a.b'`. */
function at(path: string, value: unknown): ConfigInput {
  const keys = path.split('.');
  let out: unknown = value;
  for (let i = keys.length - 1; i >= 0; i--) out = { [keys[i]!]: out };
  return out as ConfigInput;
}

/** Asserts `fn` throws exactly `type` with a message that starts with `path` followed by a space. */
function throwsAt(fn: () => unknown, type: ErrorType, path: string, also?: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof Error, `threw a non-error: ${String(err)}`);
    assert.equal(err.constructor, type, `${err.constructor.name} instead of ${type.name}: ${err.message}`);
    assert.ok(err.message.startsWith(`${path} `), `message does not start with "${path} ": ${err.message}`);
    if (also) assert.match(err.message, also);
    return true;
  });
}

function assertDeepFrozen(value: unknown, path = 'config'): void {
  if (value === null || typeof value !== 'object') return;
  assert.ok(Object.isFrozen(value), `${path} is not frozen`);
  for (const [k, v] of Object.entries(value)) assertDeepFrozen(v, `${path}.${k}`);
}

const STAGES = ['ingest', 'decoder', 'simulator', 'scorer', 'submitter'] as const;
const FAULT = { stage: 'decoder', seq: 10, action: 'throw', times: 1 } as const;

/** Every integer field: its path, and values outside its range (each a RangeError). */
const INTEGER_FIELDS: { path: string; outOfRange: number[] }[] = [
  { path: 'ring.capacityBytes', outOfRange: [512, 2 ** 31] },
  { path: 'wait.spinMicros', outOfRange: [-1, 1_000_001] },
  { path: 'batchMaxRecords', outOfRange: [0, 65_537] },
  { path: 'supervisor.heartbeatIntervalMs', outOfRange: [0, 60_001] },
  { path: 'supervisor.hangTimeoutMs', outOfRange: [0, 3_600_001] },
  { path: 'supervisor.bootstrapTimeoutMs', outOfRange: [0, 3_600_001] },
  { path: 'supervisor.restartBackoffInitialMs', outOfRange: [-1, 3_600_001] },
  { path: 'supervisor.restartBackoffMaxMs', outOfRange: [3_600_001] },
  { path: 'supervisor.restartBackoffResetMs', outOfRange: [-1, 3_600_001] },
  { path: 'supervisor.restartBudget', outOfRange: [-1, 1_000_001] },
  { path: 'supervisor.restartWindowMs', outOfRange: [0, 86_400_001] },
  { path: 'supervisor.poisonThreshold', outOfRange: [0, 1001] },
  { path: 'supervisor.metricsIntervalMs', outOfRange: [9, 3_600_001] },
  { path: 'supervisor.drainTimeoutMs', outOfRange: [0, 3_600_001] },
  { path: 'synthetic.rate', outOfRange: [-1, 100_000_001] },
  { path: 'synthetic.count', outOfRange: [-1, Number.MAX_SAFE_INTEGER + 1] },
  { path: 'synthetic.recordBytes', outOfRange: [-1, DEFAULT_CONFIG.ring.capacityBytes / 2 + 1] },
  { path: 'synthetic.blockEvery', outOfRange: [-1] },
  ...STAGES.map((s) => ({ path: `synthetic.stages.${s}.workNs`, outOfRange: [-1, 1_000_000_001] })),
  { path: 'ingest.dedupeWindow', outOfRange: [0, 2 ** 24 + 1] },
  { path: 'decoder.maxTxBytes', outOfRange: [127, 2 ** 24 + 1] },
];

describe('validateConfig', () => {
  it('default', () => {
    const c = validateConfig();
    assert.deepEqual(c, DEFAULT_CONFIG);
    assertDeepFrozen(c);
    assertDeepFrozen(DEFAULT_CONFIG);
    assert.throws(() => {
      (c as { batchMaxRecords: number }).batchMaxRecords = 1;
    }, TypeError);
    assert.throws(() => {
      (c.supervisor as { hangTimeoutMs: number }).hangTimeoutMs = 1;
    }, TypeError);
    assert.deepEqual(validateConfig({}), DEFAULT_CONFIG);
  });

  it('behavior: a partial override changes only the fields it names', () => {
    const c = validateConfig({ ring: { capacityBytes: 1 << 16 }, supervisor: { poisonThreshold: 5 }, synthetic: { stages: { scorer: { workNs: 700 } } } });
    const want = structuredClone(DEFAULT_CONFIG) as EngineConfig;
    want.ring.capacityBytes = 1 << 16;
    want.supervisor.poisonThreshold = 5;
    want.synthetic.stages.scorer.workNs = 700;
    assert.deepEqual(c, want);
    assertDeepFrozen(c);
  });

  it('behavior: a field given as undefined keeps its default', () => {
    assert.deepEqual(validateConfig({ ring: { capacityBytes: undefined }, log: undefined }), DEFAULT_CONFIG);
  });

  it('behavior: faults replace the default list', () => {
    const faults = [
      { stage: 'scorer', seq: 0, action: 'exit', times: 2 },
      { stage: 'submitter', seq: 99, action: 'hang', times: 1 },
    ] as const;
    const c = validateConfig({ synthetic: { faults: faults.map((f) => ({ ...f })) } });
    assert.deepEqual(c.synthetic.faults, faults);
    assertDeepFrozen(c);
  });

  it('behavior: changing the input afterwards does not change the config', () => {
    const input = { supervisor: { poisonThreshold: 5 } };
    const c = validateConfig(input);
    input.supervisor.poisonThreshold = 7;
    assert.equal(c.supervisor.poisonThreshold, 5);
    assert.equal(Object.isFrozen(input.supervisor), false, 'the caller’s object is not frozen');
  });

  it('behavior: the caller’s faults array is neither kept nor frozen', () => {
    const faults = [{ ...FAULT }];
    const c = validateConfig({ synthetic: { faults } });
    assert.notEqual(c.synthetic.faults, faults);
    assert.equal(Object.isFrozen(faults), false);
    assert.equal(Object.isFrozen(faults[0]), false);
  });

  it('args: the limits of each range are accepted', () => {
    assert.equal(validateConfig({ ring: { capacityBytes: 1024 } }).ring.capacityBytes, 1024);
    assert.equal(validateConfig({ ring: { capacityBytes: 1 << 30 } }).ring.capacityBytes, 1 << 30);
    assert.equal(validateConfig({ supervisor: { heartbeatIntervalMs: 100, hangTimeoutMs: 101 } }).supervisor.hangTimeoutMs, 101);
    assert.equal(validateConfig({ supervisor: { restartBackoffInitialMs: 50, restartBackoffMaxMs: 50 } }).supervisor.restartBackoffMaxMs, 50);
    assert.equal(validateConfig({ ring: { capacityBytes: 2048 }, synthetic: { recordBytes: 1024 } }).synthetic.recordBytes, 1024);
    assert.equal(validateConfig({ wait: { strategy: 'busy-spin', spinMicros: 0 } }).wait.strategy, 'busy-spin');
    assert.equal(validateConfig({ synthetic: { onFull: 'shed' } }).synthetic.onFull, 'shed');
    for (const level of ['debug', 'info', 'warn', 'error', 'silent'] as const) assert.equal(validateConfig({ log: { level } }).log.level, level);
  });

  describe('error: an integer field that is not an integer is a TypeError naming it', () => {
    for (const { path } of INTEGER_FIELDS) {
      it(`error: config.${path}`, () => {
        for (const bad of [1.5, Number.NaN, Number.POSITIVE_INFINITY, '64', null, true, [], {}]) {
          throwsAt(() => validateConfig(at(path, bad)), TypeError, `config.${path}`, /must be an integer/);
        }
      });
    }
  });

  describe('error: an integer field out of range is a RangeError naming it', () => {
    for (const { path, outOfRange } of INTEGER_FIELDS) {
      it(`error: config.${path}`, () => {
        for (const bad of outOfRange) throwsAt(() => validateConfig(at(path, bad)), RangeError, `config.${path}`, new RegExp(`got ${bad}$`));
      });
    }
  });

  it('error: config.synthetic.recordBytes may not exceed half the ring', () => {
    throwsAt(() => validateConfig({ ring: { capacityBytes: 1024 }, synthetic: { recordBytes: 513 } }), RangeError, 'config.synthetic.recordBytes');
  });

  it('error: config.ring.capacityBytes that is not a power of two', () => {
    for (const bad of [1025, 3000, (1 << 20) + 4, (1 << 30) - 1]) {
      throwsAt(() => validateConfig({ ring: { capacityBytes: bad } }), RangeError, 'config.ring.capacityBytes', /power of two/);
    }
  });

  it('error: config.supervisor.hangTimeoutMs not above heartbeatIntervalMs', () => {
    for (const hang of [100, 99, 1]) {
      throwsAt(
        () => validateConfig({ supervisor: { heartbeatIntervalMs: 100, hangTimeoutMs: hang } }),
        RangeError,
        'config.supervisor.hangTimeoutMs',
        /config\.supervisor\.heartbeatIntervalMs/,
      );
    }
  });

  it('error: config.supervisor.restartBackoffMaxMs below restartBackoffInitialMs', () => {
    throwsAt(() => validateConfig({ supervisor: { restartBackoffInitialMs: 100, restartBackoffMaxMs: 99 } }), RangeError, 'config.supervisor.restartBackoffMaxMs');
  });

  it('error: config.supervisor.deadLetterPath empty or not a string', () => {
    for (const bad of ['', 5, null, {}]) {
      throwsAt(() => validateConfig({ supervisor: { deadLetterPath: bad as string } }), TypeError, 'config.supervisor.deadLetterPath');
    }
  });

  it('error: an unknown choice names the field and lists the choices', () => {
    const cases: [string, unknown, RegExp][] = [
      ['wait.strategy', 'fast', /"wait", "busy-spin", got "fast"$/],
      ['wait.strategy', 'toString', /got "toString"$/],
      ['log.level', 'trace', /"debug", "info", "warn", "error", "silent", got "trace"$/],
      ['log.level', 'INFO', /got "INFO"$/],
      ['synthetic.onFull', 'drop', /"wait", "shed", got "drop"$/],
      ['synthetic.onFull', 1, /got 1$/],
    ];
    for (const [path, bad, message] of cases) throwsAt(() => validateConfig(at(path, bad)), TypeError, `config.${path}`, message);
  });

  it('error: config.synthetic.faults not an array', () => {
    for (const bad of [{}, 'none', 1, null]) throwsAt(() => validateConfig(at('synthetic.faults', bad)), TypeError, 'config.synthetic.faults', /must be an array/);
  });

  it('error: each invalid fault field names the fault and the field', () => {
    const cases: [Record<string, unknown>, ErrorType, string][] = [
      [{ stage: 'executor' }, TypeError, 'stage'],
      [{ stage: undefined }, TypeError, 'stage'],
      [{ seq: 1.5 }, TypeError, 'seq'],
      [{ seq: -1 }, RangeError, 'seq'],
      [{ seq: '10' }, TypeError, 'seq'],
      [{ action: 'explode' }, TypeError, 'action'],
      [{ action: undefined }, TypeError, 'action'],
      [{ times: 0 }, RangeError, 'times'],
      [{ times: 0.5 }, TypeError, 'times'],
    ];
    for (const [patch, type, field] of cases) {
      const faults = [{ ...FAULT }, { ...FAULT, ...patch }];
      throwsAt(() => validateConfig({ synthetic: { faults } } as ConfigInput), type, `config.synthetic.faults[1].${field}`);
    }
  });

  it('error: a fault that is not an object', () => {
    for (const bad of [5, null, 'throw']) {
      throwsAt(() => validateConfig({ synthetic: { faults: [bad] } } as unknown as ConfigInput), TypeError, 'config.synthetic.faults[0]', /must be an object/);
    }
  });

  it('error: an unknown fault field names it', () => {
    throwsAt(() => validateConfig({ synthetic: { faults: [{ ...FAULT, time: 3 }] } } as unknown as ConfigInput), TypeError, 'config.synthetic.faults[0].time');
  });

  it('error: an unknown field names its path and lists the known fields', () => {
    const cases: [ConfigInput, string, readonly string[]][] = [
      [{ bogus: 1 } as ConfigInput, 'config.bogus', Object.keys(DEFAULT_CONFIG)],
      [{ supervisor: { hangTimeout: 5 } } as ConfigInput, 'config.supervisor.hangTimeout', Object.keys(DEFAULT_CONFIG.supervisor)],
      [{ ring: { capacity: 1024 } } as ConfigInput, 'config.ring.capacity', ['capacityBytes']],
      [{ synthetic: { stages: { executor: { workNs: 1 } } } } as ConfigInput, 'config.synthetic.stages.executor', STAGES],
      [{ synthetic: { stages: { ingest: { work: 1 } } } } as ConfigInput, 'config.synthetic.stages.ingest.work', ['workNs']],
    ];
    for (const [input, path, known] of cases) {
      throwsAt(() => validateConfig(input), TypeError, path, new RegExp(`is not a config field \\(known: ${known.join(', ')}\\)$`));
    }
  });

  it('error: a field named like an Object.prototype member is unknown too', () => {
    throwsAt(() => validateConfig({ ring: { toString: 1 } } as ConfigInput), TypeError, 'config.ring.toString');
    throwsAt(() => validateConfig({ constructor: 1 } as ConfigInput), TypeError, 'config.constructor');
  });

  it('error: a non-object where an object belongs', () => {
    const cases: [unknown, string][] = [
      [null, 'config'],
      [[], 'config'],
      ['{}', 'config'],
      [{ ring: 5 }, 'config.ring'],
      [{ ring: null }, 'config.ring'],
      [{ wait: [] }, 'config.wait'],
      [{ supervisor: 'fast' }, 'config.supervisor'],
      [{ synthetic: { stages: { ingest: 5 } } }, 'config.synthetic.stages.ingest'],
      [{ synthetic: { stages: [] } }, 'config.synthetic.stages'],
    ];
    for (const [input, path] of cases) throwsAt(() => validateConfig(input as ConfigInput), TypeError, path, /must be an object/);
  });
});

describe('loadConfig', () => {
  const dir = mkdtempSync(join(tmpdir(), 'orion-config-test-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  let n = 0;
  const file = (text: string): string => {
    const p = join(dir, `config-${n++}.json`);
    writeFileSync(p, text);
    return p;
  };

  it('default', () => {
    const c = loadConfig();
    assert.deepEqual(c, DEFAULT_CONFIG);
    assertDeepFrozen(c);
  });

  it('behavior: reads a JSON file over the defaults', () => {
    const c = loadConfig({ file: file(JSON.stringify({ ring: { capacityBytes: 65536 }, log: { level: 'debug' }, synthetic: { faults: [FAULT] } })) });
    const want = structuredClone(DEFAULT_CONFIG) as EngineConfig;
    want.ring.capacityBytes = 65536;
    want.log.level = 'debug';
    want.synthetic.faults = [{ ...FAULT }];
    assert.deepEqual(c, want);
    assertDeepFrozen(c);
  });

  it('behavior: each environment variable overrides the file', () => {
    const f = file(JSON.stringify({ wait: { strategy: 'wait' }, log: { level: 'debug' }, supervisor: { deadLetterPath: 'from-file.jsonl' } }));
    const values: Record<keyof typeof ENV_FIELDS, string> = { ORION_WAIT_STRATEGY: 'busy-spin', ORION_LOG_LEVEL: 'error', ORION_DEAD_LETTER_PATH: '/tmp/from-env.jsonl' };
    for (const [name, field] of Object.entries(ENV_FIELDS) as [keyof typeof ENV_FIELDS, string][]) {
      const c = loadConfig({ file: f, env: { [name]: values[name] } });
      const [group, key] = field.split('.') as [string, string];
      assert.equal((c as unknown as Record<string, Record<string, unknown>>)[group]![key], values[name], `${name} sets ${field}`);
    }
    const all = loadConfig({ file: f, env: values });
    assert.equal(all.wait.strategy, 'busy-spin');
    assert.equal(all.log.level, 'error');
    assert.equal(all.supervisor.deadLetterPath, '/tmp/from-env.jsonl');
  });

  it('behavior: an empty environment variable is ignored', () => {
    const c = loadConfig({ file: file('{"log":{"level":"warn"}}'), env: { ORION_LOG_LEVEL: '', ORION_WAIT_STRATEGY: '' } });
    assert.equal(c.log.level, 'warn');
    assert.equal(c.wait.strategy, DEFAULT_CONFIG.wait.strategy);
  });

  it('behavior: explicit overrides beat the environment and the file', () => {
    const c = loadConfig({
      file: file('{"log":{"level":"debug"},"batchMaxRecords":8}'),
      env: { ORION_LOG_LEVEL: 'warn' },
      overrides: { log: { level: 'error' }, batchMaxRecords: 16 },
    });
    assert.equal(c.log.level, 'error');
    assert.equal(c.batchMaxRecords, 16);
  });

  it('behavior: without `env` it does not read process.env', () => {
    const saved = process.env.ORION_LOG_LEVEL;
    try {
      process.env.ORION_LOG_LEVEL = 'debug';
      assert.equal(loadConfig().log.level, DEFAULT_CONFIG.log.level);
      process.env.ORION_LOG_LEVEL = 'not-a-level';
      assert.doesNotThrow(() => loadConfig({ overrides: { batchMaxRecords: 8 } }));
    } finally {
      if (saved === undefined) delete process.env.ORION_LOG_LEVEL;
      else process.env.ORION_LOG_LEVEL = saved;
    }
  });

  it('error: a missing file names the file', () => {
    const missing = join(dir, 'missing.json');
    assert.throws(() => loadConfig({ file: missing }), (err: unknown) => {
      assert.ok(err instanceof TypeError);
      assert.ok(err.message.startsWith(`config file ${missing} cannot be read`), err.message);
      return true;
    });
  });

  it('error: invalid JSON names the file', () => {
    for (const text of ['{"log": {', '', 'log.level = "info"']) {
      const f = file(text);
      assert.throws(() => loadConfig({ file: f }), (err: unknown) => {
        assert.ok(err instanceof TypeError);
        assert.ok(err.message.startsWith(`config file ${f} is not valid JSON`), err.message);
        return true;
      });
    }
  });

  it('error: an invalid field in the file names its path', () => {
    throwsAt(() => loadConfig({ file: file('{"ring":{"capacityBytes":1000}}') }), RangeError, 'config.ring.capacityBytes');
    throwsAt(() => loadConfig({ file: file('{"ring":{"size":1024}}') }), TypeError, 'config.ring.size');
  });

  it('error: a file that holds no JSON object names the file', () => {
    for (const text of ['null', '[]', '42']) {
      const f = file(text);
      assert.throws(() => loadConfig({ file: f }), (err: unknown) => err instanceof TypeError && err.message.includes(f));
    }
  });

  it('error: an invalid environment value names the field path', () => {
    throwsAt(() => loadConfig({ env: { ORION_WAIT_STRATEGY: 'fast' } }), TypeError, 'config.wait.strategy', /got "fast"$/);
    throwsAt(() => loadConfig({ env: { ORION_LOG_LEVEL: 'loud' } }), TypeError, 'config.log.level', /got "loud"$/);
  });

  it('behavior: an explicit override hides an invalid environment value', () => {
    assert.equal(loadConfig({ env: { ORION_LOG_LEVEL: 'loud' }, overrides: { log: { level: 'warn' } } }).log.level, 'warn');
  });

  it('error: an unknown override field names its path', () => {
    throwsAt(() => loadConfig({ overrides: { supervisor: { budget: 1 } } as ConfigInput }), TypeError, 'config.supervisor.budget');
  });

  it('error: each invalid ingest source field names the source and the field', () => {
    const ws = { kind: 'rpc-ws', name: 'node', url: 'ws://127.0.0.1:8545', mode: 'auto' };
    const cases: [unknown, ErrorType, string, RegExp?][] = [
      [{ ...ws, kind: 'ipc' }, TypeError, 'config.ingest.sources[0].kind', /"rpc-ws", "capture"/],
      [{ ...ws, name: '' }, TypeError, 'config.ingest.sources[0].name'],
      [{ ...ws, name: 'a b' }, TypeError, 'config.ingest.sources[0].name', /letters, digits/],
      [{ ...ws, url: 'http://x' }, TypeError, 'config.ingest.sources[0].url', /ws:\/\//],
      [{ ...ws, mode: 'all' }, TypeError, 'config.ingest.sources[0].mode'],
      [{ ...ws, port: 1 }, TypeError, 'config.ingest.sources[0].port', /not a config field/],
      [{ kind: 'capture', name: 'cap', path: '', speed: 'max' }, TypeError, 'config.ingest.sources[0].path'],
      [{ kind: 'capture', name: 'cap', path: 'x', speed: 0 }, TypeError, 'config.ingest.sources[0].speed', /"max" or a positive number/],
      [5, TypeError, 'config.ingest.sources[0]', /must be an object/],
    ];
    for (const [src, type, field, message] of cases) throwsAt(() => validateConfig({ ingest: { sources: [src as never] } }), type, field, message);
    throwsAt(() => validateConfig({ ingest: { sources: [ws, ws] as never } }), TypeError, 'config.ingest.sources[1].name', /used by another source/);
    throwsAt(() => validateConfig({ ingest: { sources: [{ ...ws, fetchBatch: 0 }] as never } }), RangeError, 'config.ingest.sources[0].fetchBatch', /integer >= 1/);
    throwsAt(() => validateConfig({ ingest: { sources: [{ ...ws, backfillOnReconnect: 'yes' }] as never } }), TypeError, 'config.ingest.sources[0].backfillOnReconnect');
    throwsAt(() => validateConfig({ ingest: { sources: [{ ...ws, reconnect: { initialMs: 500, maxMs: 100 } }] as never } }), RangeError, 'config.ingest.sources[0].reconnect.maxMs');
    throwsAt(() => validateConfig({ ingest: { sources: [{ kind: 'capture', name: 'c', path: 'x', speed: 1, fetchBatch: 5 }] as never } }), TypeError, 'config.ingest.sources[0].fetchBatch', /capture source/);
    throwsAt(() => validateConfig({ ingest: { sources: {} as never } }), TypeError, 'config.ingest.sources', /must be an array/);
  });

  it('error: each invalid record and decoder field names it', () => {
    throwsAt(() => validateConfig({ ingest: { record: { dir: '', segmentBytes: 1 << 20, retainBytes: 0 } } }), TypeError, 'config.ingest.record.dir');
    throwsAt(() => validateConfig({ ingest: { record: { dir: 'x', segmentBytes: 100, retainBytes: 0 } } }), RangeError, 'config.ingest.record.segmentBytes');
    throwsAt(() => validateConfig({ decoder: { chainId: 0 } }), RangeError, 'config.decoder.chainId');
    throwsAt(() => validateConfig({ decoder: { chainId: '1' as never } }), TypeError, 'config.decoder.chainId');
    throwsAt(() => validateConfig({ decoder: { routers: [{ address: '0x12', kind: 'v2-router02' }] as never } }), TypeError, 'config.decoder.routers[0].address');
    throwsAt(() => validateConfig({ decoder: { routers: [{ address: `0x${'ab'.repeat(20)}`, kind: 'v2-router02', name: 'r', v2Factory: `0x${'cd'.repeat(20)}` }] as never } }), TypeError, 'config.decoder.routers[0]', /must be given together/);
    throwsAt(() => validateConfig({ decoder: { routers: [{ address: `0x${'ab'.repeat(20)}`, kind: 'v9' }] as never } }), TypeError, 'config.decoder.routers[0].kind');
    throwsAt(() => validateConfig({ decoder: { filter: { strategies: ['frontrun'] as never } } }), TypeError, 'config.decoder.filter.strategies[0]');
    throwsAt(() => validateConfig({ decoder: { filter: { dropExpired: 'yes' as never } } }), TypeError, 'config.decoder.filter.dropExpired');
    throwsAt(() => validateConfig({ pipeline: 'fast' as never }), TypeError, 'config.pipeline', /"live", "synthetic"/);
  });

  it('behavior: a valid live config with sources and recording is accepted', () => {
    const c = validateConfig({
      decoder: { chainId: 1 },
      ingest: {
        sources: [
          { kind: 'rpc-ws', name: 'a', url: 'wss://node.example/ws', mode: 'full', fetchBatch: 50, reconnect: { maxMs: 30_000 } },
          { kind: 'capture', name: 'b', path: '/tmp/cap', speed: 2 },
        ],
        record: { dir: '/tmp/rec', segmentBytes: 1 << 20, retainBytes: 0 },
      },
    });
    assert.equal(c.ingest.sources.length, 2);
    assert.equal(c.decoder.chainId, 1);
  });
});
