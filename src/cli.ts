#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { fail } from './cli/common.js';
import { DECODE_HELP, decode } from './cli/decode.js';
import { DEMO_HELP, demo } from './cli/demo.js';
import { OrionError } from './runtime/errors.js';

const VERSION = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

const HELP = `orion ${VERSION} — low-latency MEV engine for Ethereum

Usage: orion <command> [options]

Commands:
  demo      Run the five-stage pipeline (ingest → decoder → simulator → scorer → submitter)
            on worker threads and print live per-stage latency. Today every stage is the
            synthetic stand-in: a paced source and pass-through stages.
  decode    Decode signed transactions (hex arguments or --stdin) to JSON: fields, sender,
            swap intent, or an error code per line
  help      Show help for a command: orion help demo

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
      process.stdout.write(rest[0] === 'demo' ? DEMO_HELP : rest[0] === 'decode' ? DECODE_HELP : HELP);
      return;
    case 'demo':
      return demo(rest);
    case 'decode':
      return decode(rest);
    default:
      fail(`unknown command "${cmd}"\n\n${HELP}`);
  }
}

main(process.argv.slice(2)).catch((err: unknown) => {
  if (err instanceof OrionError) fail(`${err.code}: ${err.message}`, 1);
  fail(err instanceof Error ? (err.stack ?? err.message) : String(err), 1);
});
