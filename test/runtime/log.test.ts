import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type LogLevel, createLogger } from '../../src/runtime/log.js';

const LEVELS = ['debug', 'info', 'warn', 'error'] as const;
const LINE = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z) (DEBUG|INFO |WARN |ERROR) \[([^\]]+)\] (.*)\n$/;

function capture(component: string, level: LogLevel) {
  const lines: string[] = [];
  return { log: createLogger(component, level, (l) => lines.push(l)), lines };
}

describe('createLogger', () => {
  it('default', () => {
    const { log, lines } = capture('decoder', 'info');
    const before = Date.now();
    log.info('started', { port: 8546 });
    const after = Date.now();
    assert.equal(lines.length, 1);
    const m = LINE.exec(lines[0]!);
    assert.ok(m, `line format: ${JSON.stringify(lines[0])}`);
    const t = Date.parse(m[1]!);
    assert.ok(t >= before - 1 && t <= after + 1, 'timestamp is now');
    assert.equal(m[2], 'INFO ');
    assert.equal(m[3], 'decoder');
    assert.equal(m[4], 'started port=8546');
  });

  it('behavior: each level writes only messages at or above it', () => {
    const rank = { debug: 0, info: 1, warn: 2, error: 3, silent: 4 } as const;
    for (const level of [...LEVELS, 'silent'] as const) {
      const { log, lines } = capture('x', level);
      for (const l of LEVELS) log[l](`${l} message`);
      const want = LEVELS.filter((l) => rank[l] >= rank[level]).map((l) => `${l} message`);
      assert.deepEqual(
        lines.map((line) => LINE.exec(line)?.[4]),
        want,
        `level ${level}`,
      );
      lines.forEach((line, i) => assert.equal(LINE.exec(line)?.[2]?.trim(), want[i]!.split(' ')[0]!.toUpperCase()));
    }
  });

  it('behavior: one line per call, level names padded to one width', () => {
    const { log, lines } = capture('scorer', 'debug');
    for (const l of LEVELS) log[l]('m');
    assert.equal(lines.length, 4);
    for (const line of lines) {
      assert.ok(line.endsWith('\n') && line.indexOf('\n') === line.length - 1);
      assert.equal(line.indexOf('[scorer]'), lines[0]!.indexOf('[scorer]'), 'the component starts at the same column on every line');
    }
  });

  it('args: fields are written as key=value, strings bare and other values as JSON', () => {
    const { log, lines } = capture('c', 'debug');
    log.warn('dropped', { port: 'out', seq: 12, ok: false, none: null, list: [1, 'a'], obj: { a: 1 } });
    assert.equal(LINE.exec(lines[0]!)?.[4], 'dropped port=out seq=12 ok=false none=null list=[1,"a"] obj={"a":1}');
  });

  it('args: bigints in fields are written as decimal strings', () => {
    const { log, lines } = capture('c', 'debug');
    log.info('block', { baseFee: 2n ** 64n, nested: { fee: 5n } });
    assert.equal(LINE.exec(lines[0]!)?.[4], 'block baseFee="18446744073709551616" nested={"fee":"5"}');
  });

  it('args: no fields, or empty fields, add nothing after the message', () => {
    const { log, lines } = capture('c', 'debug');
    log.error('plain');
    log.error('empty', {});
    assert.deepEqual(lines.map((l) => LINE.exec(l)?.[4]), ['plain', 'empty']);
  });

  it('behavior: a silent logger never calls write', () => {
    let calls = 0;
    const log = createLogger('c', 'silent', () => calls++);
    for (const l of LEVELS) log[l]('m', { a: 1 });
    assert.equal(calls, 0);
  });
});
