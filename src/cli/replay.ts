import { createWriteStream, readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { canonicalJson } from '../replay/digest.js';
import { type ReplayReport, ReplayError, replay } from '../replay/replay.js';
import type { ConfigInput } from '../runtime/config.js';
import { OrionError } from '../runtime/errors.js';
import { fail } from './common.js';

export const REPLAY_HELP = `Usage: orion replay CAPTURE [options]

Feeds a capture (orion capture --out CAPTURE) through the same five actors and worker threads as a
live run, without a node: every node read is answered from the capture's tape. Deterministic: the
same capture and configuration give the same outputs and the same digest on every run, with any
thread count and at any speed. The submitter runs dry (what it would have sent is reported).

Prints a summary on stderr (a progress bar while it runs, on a terminal only). The report (--report
or --json) has the digest, counts per stage, rejections by code, opportunities by kind with
predicted profit, the top opportunities, latency per stage (wall and virtual), throughput, and a
backtest against the blocks that were mined during the capture.

Options:
  --speed S          max (default: as fast as it goes), 1x (as recorded), or Nx (N times as fast)
  --report FILE      Write the report as JSON to FILE
  --json             Print the report as one JSON object on stdout
  --outputs FILE     Write every output (opportunities, dry-run submissions) to FILE, one JSON per line
  --threads N        EVM threads of the simulator and of the verification (default: the capture's)
  --config FILE      Strategy settings over the capture's own (JSON, docs/config.md: scorer.*,
                     decoder.filter, …); node URLs, sources and the submitter's mode stay the replay's
  --log-level L      Engine log level: debug, info, warn (default), error, silent
  -h, --help         Show this help

Exit status: 0 done; 1 the replay failed (a damaged capture names the file, byte offset and
kind; a capture that lacks a node read names it), and no report is written; 2 usage;
4 the replay's digest differs from the one the capture run recorded (live.json).

Example: orion replay samples/devnet-capture --report report.json
`;

function parseSpeed(v: string | undefined): 'max' | number {
  if (v === undefined || v === 'max') return 'max';
  const m = /^(\d+(?:\.\d+)?)x?$/.exec(v);
  const n = m ? Number(m[1]) : NaN;
  if (!(n > 0) || !Number.isFinite(n)) fail(`--speed must be max, 1x or Nx (N > 0), got ${JSON.stringify(v)}`);
  return n;
}

function bar(done: number, total: number, width = 30): string {
  const f = total > 0 ? Math.min(1, done / total) : 0;
  const n = Math.round(f * width);
  return `[${'#'.repeat(n)}${'.'.repeat(width - n)}] ${(f * 100).toFixed(0).padStart(3)}%`;
}

/** `orion replay`. */
export async function replayCommand(argv: string[]): Promise<void> {
  let values;
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        speed: { type: 'string' },
        report: { type: 'string' },
        json: { type: 'boolean', default: false },
        outputs: { type: 'string' },
        threads: { type: 'string' },
        config: { type: 'string' },
        'log-level': { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
      strict: true,
    }));
  } catch (err) {
    fail(`${(err as Error).message}\n\n${REPLAY_HELP}`);
  }
  if (values.help) {
    process.stdout.write(REPLAY_HELP);
    return;
  }
  if (positionals.length !== 1) fail(`give one capture directory\n\n${REPLAY_HELP}`);
  const path = positionals[0]!;
  const speed = parseSpeed(values.speed);
  let threads: number | undefined;
  if (values.threads !== undefined) {
    threads = Number(values.threads);
    if (!Number.isInteger(threads) || threads < 1 || threads > 64) fail(`--threads must be an integer from 1 to 64, got ${JSON.stringify(values.threads)}`);
  }
  let config: ConfigInput | undefined;
  if (values.config !== undefined) {
    try {
      config = JSON.parse(readFileSync(values.config, 'utf8')) as ConfigInput;
    } catch (err) {
      fail(`--config ${values.config}: ${(err as Error).message}`);
    }
  }
  const level = values['log-level'] ?? 'warn';
  if (!['debug', 'info', 'warn', 'error', 'silent'].includes(level)) fail(`--log-level must be debug, info, warn, error or silent, got ${JSON.stringify(level)}`);
  const log = (line: string) => process.stderr.write(`${line}\n`);
  const tty = process.stderr.isTTY === true;
  const outputs = values.outputs ? createWriteStream(values.outputs) : null;

  log(`orion replay: ${path} at ${speed === 'max' ? 'max speed' : `${speed}x`}${threads ? `, ${threads} EVM thread(s)` : ''}`);
  const run = replay(path, {
    speed,
    ...(threads !== undefined ? { threads } : {}),
    ...(config !== undefined ? { config } : {}),
    logLevel: level as 'warn',
    // A progress bar on a terminal only: never in a pipe, a log or the report.
    ...(tty ? { onProgress: (p) => process.stderr.write(`\r\x1b[2K${bar(p.records, p.totalRecords)}  ${p.txs} txs  ${p.opportunities} opportunity records  ${p.elapsedSec.toFixed(1)} s`) } : {}),
  });
  let report: ReplayReport;
  try {
    if (outputs) for await (const o of run) outputs.write(`${canonicalJson(o)}\n`);
    report = await run.report;
  } catch (err) {
    if (tty) process.stderr.write('\n');
    outputs?.end();
    const partial = err instanceof ReplayError && err.partial ? ` (partial: ${err.partial.txs} txs replayed)` : '';
    if (err instanceof OrionError) fail(`${err.message}${partial}`, 1);
    throw err;
  }
  if (tty) process.stderr.write('\n');
  if (outputs) await new Promise<void>((res) => outputs.end(res));
  if (values.report) writeFileSync(values.report, `${JSON.stringify(report, null, 2)}\n`);
  if (values.json) process.stdout.write(`${JSON.stringify(report)}\n`);
  printReport(report, log);
  if (report.live !== null && config === undefined && !report.live.matches) {
    log(`orion replay: the digest differs from the capture run's (${report.live.digest}): the replay did not reproduce it`);
    process.exitCode = 4;
  }
}

function printReport(r: ReplayReport, log: (l: string) => void): void {
  log(`done: ${r.txs} txs, ${r.blocks} heads in ${r.processingSeconds} s (${r.txPerSecond} tx/s, ${r.realTimeMultiple}× real time; ${r.wallSeconds} s with start-up)`);
  log(`  opportunities ${JSON.stringify(r.opportunities)}, rejected ${JSON.stringify(r.rejectedOpportunities)}; predicted net ${r.predictedNetProfitWei.total} wei`);
  log(`  dry-run submissions ${JSON.stringify(r.submissions.byStatus)}`);
  if (r.backtest) {
    const b = r.backtest;
    log(`  backtest: ${b.considered} opportunities, victim mined ${b.victimMined}, taken by others ${b.takenByOthers}, we would have been first ${b.wouldHaveBeenFirst} (hit rate ${(b.hitRate * 100).toFixed(1)}%), missed value ${b.missedValueWei} wei`);
  }
  log(`  digest ${r.digest}${r.live ? (r.live.matches ? ' (same as the capture run)' : ' (DIFFERS from the capture run)') : ''}`);
}
