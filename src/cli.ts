#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { fail } from './cli/common.js';
import { DECODE_HELP, decode } from './cli/decode.js';
import { CAPTURE_HELP, capture } from './cli/capture.js';
import { DEMO_HELP, demo } from './cli/demo.js';
import { REPLAY_HELP, replayCommand } from './cli/replay.js';
import { KEY_HELP, RUN_HELP, key, run } from './cli/run.js';
import { OrionError } from './runtime/errors.js';

const VERSION = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

const HELP = `orion ${VERSION} — low-latency MEV engine for Ethereum

Usage: orion <command> [options]

Commands:
  demo      Start a local devnet with traffic and run everything against it: the five stages
            (ingest → decoder → simulator → scorer → submitter) on worker threads and the
            searcher gateway (websocket stream, /metrics, /health, status page). Prints the
            gateway URL and an API key, then live progress; no configuration needed.
  run       Run the engine and gateway against the node a config file names (--config FILE)
  key       Make a gateway API key and print its ORION_API_KEYS and config-file entries
  capture   Record a node (--rpc) or a devnet (--devnet) to a capture directory: transactions,
            heads, every node read, mined blocks; replayable without a node
  replay    Replay a capture through the five stages, deterministically (same digest every run),
            and report: opportunities, predicted PnL, latency, throughput, backtest
  decode    Decode signed transactions (hex arguments or --stdin) to JSON: fields, sender,
            swap intent, or an error code per line
  help      Show help for a command: orion help demo

Docs: README.md, docs/gateway.md (stream protocol, HTTP routes), docs/config.md (config file),
docs/replay.md (capture, replay, the library API).

Options:
  -h, --help       Show help
  -v, --version    Show the version
`;

async function main(argv: string[]): Promise<void> {
  const [cmd, ...rest] = argv;
  switch (cmd) {
    case undefined:
    case '-h':
    case '--help':
      process.stdout.write(HELP);
      return;
    case '-v':
    case '--version':
      process.stdout.write(`${VERSION}\n`);
      return;
    case 'help':
      process.stdout.write(({ demo: DEMO_HELP, decode: DECODE_HELP, run: RUN_HELP, key: KEY_HELP, capture: CAPTURE_HELP, replay: REPLAY_HELP } as Record<string, string>)[rest[0] ?? ''] ?? HELP);
      return;
    case 'demo':
      return demo(rest);
    case 'decode':
      return decode(rest);
    case 'run':
      return run(rest);
    case 'key':
      return key(rest);
    case 'capture':
      return capture(rest);
    case 'replay':
      return replayCommand(rest);
    default:
      fail(`unknown command "${cmd}"\n\n${HELP}`);
  }
}

main(process.argv.slice(2)).catch((err: unknown) => {
  if (err instanceof OrionError) fail(`${err.code}: ${err.message}`, 1);
  fail(err instanceof Error ? (err.stack ?? err.message) : String(err), 1);
});
