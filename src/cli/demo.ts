import { parseArgs } from 'node:util';
import { Engine, type EngineStats, STAGES } from '../engine.js';
import { type ConfigInput, loadConfig } from '../runtime/config.js';
import { fail } from './common.js';

export const DEMO_HELP = `Usage: orion demo [options]

Runs the synthetic five-stage pipeline and prints one status line per second to stderr
(records/s, end-to-end p50/p99, restarts, drops). Ctrl-C stops it gracefully: every stage
drains, nothing accepted is lost.

Options:
  --rate N          Records per second offered by the source (default 1000; 0 = as fast as possible)
  --duration S      Stop after S seconds and print a summary (default: run until Ctrl-C)
  --record-bytes N  Payload bytes per synthetic transaction (default 256)
  --json            Print the summary as one JSON object on stdout
  --config FILE     JSON config file (see docs/config.md); flags above override it
  -h, --help        Show this help

Environment (read once at start): ORION_WAIT_STRATEGY, ORION_LOG_LEVEL, ORION_DEAD_LETTER_PATH.
`;

/** The summary `orion demo` prints at the end (and as JSON with --json). */
export interface DemoSummary {
  seconds: number;
  records: number;
  recordsPerSecond: number;
  endToEndUs: { p50: number; p99: number; p999: number };
  latencyUs: Record<string, { serviceP50: number; serviceP99: number; queueWaitP50: number; queueWaitP99: number }>;
  restarts: number;
  deadLetters: number;
  drops: number;
}

function summarize(s: EngineStats): DemoSummary {
  const latencyUs: DemoSummary['latencyUs'] = {};
  let restarts = 0;
  let deadLetters = 0;
  let drops = 0;
  for (const [name, st] of Object.entries(s.stages)) {
    latencyUs[name] = { serviceP50: st.serviceUs.p50, serviceP99: st.serviceUs.p99, queueWaitP50: st.queueWaitUs.p50, queueWaitP99: st.queueWaitUs.p99 };
    restarts += st.restarts;
    deadLetters += st.deadLetters;
    drops += st.outputDrops;
  }
  return {
    seconds: s.uptimeSec,
    records: s.output.records,
    recordsPerSecond: s.output.perSecond,
    endToEndUs: { p50: s.endToEndUs.p50, p99: s.endToEndUs.p99, p999: s.endToEndUs.p999 },
    latencyUs,
    restarts,
    deadLetters,
    drops,
  };
}

export async function demo(argv: string[]): Promise<void> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        rate: { type: 'string' },
        duration: { type: 'string' },
        'record-bytes': { type: 'string' },
        json: { type: 'boolean', default: false },
        config: { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
      strict: true,
    }));
  } catch (err) {
    fail(`${(err as Error).message}\n\n${DEMO_HELP}`);
  }
  if (values.help) {
    process.stdout.write(DEMO_HELP);
    return;
  }
  const num = (flag: string, v: string | undefined): number | undefined => {
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!Number.isFinite(n) || n < 0) fail(`--${flag} must be a non-negative number, got ${JSON.stringify(v)}`);
    return n;
  };
  const rate = num('rate', values.rate);
  const duration = num('duration', values.duration);
  const recordBytes = num('record-bytes', values['record-bytes']);
  const overrides: ConfigInput = { pipeline: 'synthetic', synthetic: {} };
  if (rate !== undefined) overrides.synthetic!.rate = Math.round(rate);
  if (recordBytes !== undefined) overrides.synthetic!.recordBytes = Math.round(recordBytes);
  let config;
  try {
    config = loadConfig({ file: values.config, overrides, env: process.env });
  } catch (err) {
    fail(`invalid configuration: ${(err as Error).message}`);
  }

  const engine = new Engine(config);
  const tty = process.stderr.isTTY;
  process.stderr.write(
    `orion demo: ${STAGES.join(' → ')} on ${STAGES.length} worker threads (synthetic stages), ${config.synthetic.rate || 'max'} records/s${duration ? `, ${duration} s` : ', Ctrl-C to stop'}\n`,
  );
  await engine.start();
  let stopping = false;
  let last = { t: performance.now(), n: 0 };
  const status = setInterval(() => {
    const s = engine.stats();
    const now = performance.now();
    const rateNow = Math.round(((s.output.records - last.n) * 1000) / (now - last.t));
    last = { t: now, n: s.output.records };
    const sum = summarize(s);
    const line = `${s.uptimeSec.toFixed(0).padStart(4)}s  ${String(rateNow).padStart(7)} rec/s  total ${s.output.records}  e2e p50 ${sum.endToEndUs.p50} µs p99 ${sum.endToEndUs.p99} µs  restarts ${sum.restarts}  drops ${sum.drops}`;
    process.stderr.write(tty ? `\r\x1b[2K${line}` : `${line}\n`);
  }, 1000);
  const finish = async () => {
    if (stopping) return;
    stopping = true;
    clearInterval(status);
    if (tty) process.stderr.write('\n');
    process.stderr.write('stopping: draining every stage…\n');
    await engine.stop();
    const sum = summarize(engine.stats());
    if (values.json) process.stdout.write(`${JSON.stringify(sum)}\n`);
    else {
      process.stderr.write(`done: ${sum.records} records in ${sum.seconds} s (${sum.recordsPerSecond}/s), end-to-end p50 ${sum.endToEndUs.p50} µs, p99 ${sum.endToEndUs.p99} µs\n`);
      for (const [name, l] of Object.entries(sum.latencyUs)) {
        process.stderr.write(`  ${name.padEnd(10)} service p50 ${l.serviceP50} µs p99 ${l.serviceP99} µs   queue wait p50 ${l.queueWaitP50} µs p99 ${l.queueWaitP99} µs\n`);
      }
    }
  };
  process.once('SIGINT', () => void finish().then(() => process.exit(0)));
  process.once('SIGTERM', () => void finish().then(() => process.exit(0)));
  const timer = duration ? new Promise<void>((res) => setTimeout(res, duration * 1000)) : new Promise<void>(() => {});
  try {
    await Promise.race([timer, engine.failed()]);
    await finish();
  } catch (err) {
    clearInterval(status);
    await engine.kill();
    throw err;
  }
}

