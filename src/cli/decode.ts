import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { classifyCalldata } from '../actors/decoder/calldata/classify.js';
import { RouterRegistry } from '../actors/decoder/calldata/router-registry.js';
import { decodeHex } from '../actors/decoder/tx/decode-tx.js';
import { TxDecodeError } from '../actors/decoder/tx/errors.js';
import type { DecodedTx } from '../messages/schema.js';
import { toJson } from '../messages/json.js';
import { fail } from './common.js';

export const DECODE_HELP = `Usage: orion decode [options] [HEX_TX…]
       orion decode --stdin [options] < txs.txt

Decodes signed Ethereum transactions (hex, with or without 0x; every type: legacy, 2930, 1559,
4844 in canonical or network form, 7702), recovers the sender, and classifies swap calldata
(Uniswap V2/V3 routers, Universal Router, direct pair swaps). Prints one JSON object per input
line to stdout: the decoded fields (bigints as decimal strings, bytes as 0x-hex, "intent" when
the calldata is a swap), or {"error":{"code":…,"message":…}}. A bad line never stops the run;
the exit code is 0 whenever it ran.

Options:
  --stdin          Read one hex transaction per line from stdin
  --chain-id N     Reject transactions signed for another chain (not checked otherwise)
  --max-bytes N    Largest transaction accepted, in bytes (default 131072)
  -h, --help       Show this help

Example:
  orion decode 0x02f8b1…
`;

/** The JSON `orion decode` prints for one decoded transaction. */
export function decodedToJson(tx: DecodedTx): string {
  const { raw: _raw, firstSeenNs: _f, source: _s, hashMismatch: _h, intent, ...fields } = tx;
  return toJson(intent === null ? fields : { ...fields, intent });
}

/** The JSON line for one input line: decoded fields, or an error object with a stable code. */
export function decodeLine(line: string, opts: { chainId?: bigint; maxBytes?: number }, registry: RouterRegistry): string {
  try {
    const tx = decodeHex(line.trim(), opts);
    tx.intent = classifyCalldata(tx.to, tx.input, tx.value, registry, tx.from);
    return decodedToJson(tx);
  } catch (err) {
    if (err instanceof TxDecodeError) return JSON.stringify({ error: { code: err.code, message: err.message } });
    return JSON.stringify({ error: { code: 'TX_INTERNAL', message: err instanceof Error ? err.message : String(err) } });
  }
}

/** `orion decode`. */
export async function decode(argv: string[]): Promise<void> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        stdin: { type: 'boolean', default: false },
        'chain-id': { type: 'string' },
        'max-bytes': { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
      strict: true,
    });
  } catch (err) {
    fail(`${(err as Error).message}\n\n${DECODE_HELP}`);
  }
  const { values, positionals } = parsed;
  if (values.help) {
    process.stdout.write(DECODE_HELP);
    return;
  }
  const opts: { chainId?: bigint; maxBytes?: number } = {};
  if (values['chain-id'] !== undefined) {
    if (!/^\d+$/.test(values['chain-id'])) fail(`--chain-id must be a positive integer, got ${JSON.stringify(values['chain-id'])}`);
    opts.chainId = BigInt(values['chain-id']);
  }
  if (values['max-bytes'] !== undefined) {
    const n = Number(values['max-bytes']);
    if (!Number.isInteger(n) || n < 1) fail(`--max-bytes must be a positive integer, got ${JSON.stringify(values['max-bytes'])}`);
    opts.maxBytes = n;
  }
  if (!values.stdin && positionals.length === 0) fail(`nothing to decode: give hex transactions as arguments or use --stdin\n\n${DECODE_HELP}`);
  const registry = new RouterRegistry();
  const out = process.stdout;
  const write = async (s: string) => {
    // Respect backpressure so a large input never buffers all output in memory.
    if (!out.write(`${s}\n`)) await new Promise<void>((res) => out.once('drain', res));
  };
  for (const p of positionals) await write(decodeLine(p, opts, registry));
  if (values.stdin) {
    const rl = createInterface({ input: process.stdin, crlfDelay: Infinity });
    for await (const line of rl) await write(decodeLine(line, opts, registry));
  }
}
