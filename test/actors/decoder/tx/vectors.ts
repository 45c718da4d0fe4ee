import { createHash } from 'node:crypto';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { type Hex, encodeFunctionData, fromRlp, keccak256, parseAbi, parseTransaction, toHex, toRlp } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { fromHex } from '../../../../src/actors/decoder/tx/hex.js';
import type { RpcTransaction } from '../../../../src/messages/schema.js';
import { mulberry32 } from '../../../support/prng.js';

/**
 * Test vectors for the transaction decoder, read from `../shared/data` (public conformance suites
 * and real mainnet transactions, never copied into the repo) and generated with viem, an
 * independent implementation, for the types the shared data lacks (7702, 4844 network form).
 */

/** `../shared/data` from the project root (this file runs from dist/test/actors/decoder/tx/). */
export const DATA = fileURLToPath(new URL('../../../../../../shared/data/', import.meta.url));

function walkJson(dir: string): string[] {
  return readdirSync(dir)
    .sort()
    .flatMap((name) => {
      const p = join(dir, name);
      return statSync(p).isDirectory() ? walkJson(p) : p.endsWith('.json') ? [p] : [];
    });
}

/** One ethereum-tests TransactionTests vector, resolved to the fork that applies. */
export interface TransactionTest {
  file: string;
  name: string;
  txbytes: string;
  /** The fork whose column is used: Cancun, or the latest fork listed when the vector has no Cancun column. */
  fork: string;
  expected: { hash: string; sender: string; intrinsicGas: string } | { exception: string };
}

/**
 * Every TransactionTests vector. 61 vectors (RLP shape errors, field counts) carry no Cancun column
 * because they are invalid in every fork; for those the latest listed fork's verdict is used.
 */
export function transactionTests(): TransactionTest[] {
  const out: TransactionTest[] = [];
  for (const file of walkJson(join(DATA, 'conformance/ethereum-tests/TransactionTests'))) {
    const doc = JSON.parse(readFileSync(file, 'utf8')) as Record<string, { txbytes: string; result: Record<string, Record<string, string>> }>;
    for (const [name, t] of Object.entries(doc)) {
      const forks = Object.keys(t.result);
      const order = ['Cancun', 'Shanghai', 'Paris', 'London', 'Berlin'];
      const fork = order.find((f) => forks.includes(f))!;
      const r = t.result[fork]!;
      out.push({
        file: file.slice(file.indexOf('TransactionTests/') + 17),
        name,
        txbytes: t.txbytes,
        fork,
        expected: r.exception !== undefined ? { exception: r.exception } : { hash: r.hash!, sender: r.sender!, intrinsicGas: r.intrinsicGas! },
      });
    }
  }
  return out;
}

/** One execution-spec-tests transaction fixture (Prague, all invalid here). */
export interface EestTest {
  name: string;
  txbytes: string;
  exception: string;
}

/** The EIP-7702 invalid-transaction fixtures. */
export function eestTests(): EestTest[] {
  const out: EestTest[] = [];
  for (const file of walkJson(join(DATA, 'conformance/eest-transaction-tests'))) {
    const doc = JSON.parse(readFileSync(file, 'utf8')) as Record<string, { txbytes: string; result: { Prague: { exception?: string } } }>;
    for (const [name, t] of Object.entries(doc)) out.push({ name: name.slice(name.indexOf('[') + 1, -1), txbytes: t.txbytes, exception: t.result.Prague.exception ?? '' });
  }
  return out;
}

/** One ethers.js transaction test case: a key, the fields, and the signed forms it produces. */
export interface EthersCase {
  name: string;
  privateKey: Hex;
  transaction: Record<string, unknown>;
  signedLegacy: string;
  signedEip155: string;
  signedBerlin: string;
  signedLondon: string;
  signedCancun: string;
}

/** The 3,200 ethers.js transaction cases (gzipped JSON). */
export function ethersCases(): EthersCase[] {
  return JSON.parse(gunzipSync(readFileSync(join(DATA, 'conformance/ethers/transactions.json.gz'))).toString('utf8')) as EthersCase[];
}

/** A real signed transaction with its upstream hash and sender. */
export interface MainnetRaw {
  source: string;
  type: number;
  raw: string;
  hash: string;
  from: string;
}

/**
 * Real transactions with raw bytes: the JSON-RPC blocks' transactions re-encoded by the data set
 * (`raw_reencoded`, checked upstream against `from`) and the ERC-7730 registry's signed examples.
 */
export function mainnetRaw(): MainnetRaw[] {
  const lines = (f: string) => readFileSync(join(DATA, 'mainnet', f), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
  return [
    ...lines('ethereumjs_rpc_blocks_txs.jsonl').map((r) => ({ source: `block ${r.block_number as number}`, type: r.type as number, raw: r.raw_reencoded as string, hash: r.hash as string, from: r.from as string })),
    ...lines('erc7730_registry_signed_txs.jsonl').map((r) => ({ source: 'erc7730', type: r.type as number, raw: r.raw as string, hash: r.hash as string, from: r.sender_recovered as string })),
  ];
}

/** The JSON-RPC block files: full transaction objects as nodes served them. */
export const RPC_BLOCK_FILES = ['alchemy14151203.json', 'infura-goerli-block-10536893.json', 'infura15571241withTransactions.json', 'infura2000004withTransactions.json'];

/** The transaction objects of one JSON-RPC block file. */
export function rpcBlockTransactions(file: string): RpcTransaction[] {
  return (JSON.parse(readFileSync(join(DATA, 'mainnet', file), 'utf8')) as { transactions: RpcTransaction[] }).transactions;
}

/** A transaction generated and signed with viem, in every form the decoder takes. */
export interface Generated {
  kind: 'legacy' | 'eip155' | 'eip2930' | 'eip1559' | 'eip4844' | 'eip7702';
  type: number;
  hex: Hex;
  bytes: Uint8Array;
  hash: Hex;
  from: string;
  /** The object a node would serve for it (hex quantities, as geth and anvil send them). */
  rpc: Record<string, unknown>;
  /** Authorities of a 7702 transaction's authorizations, in order. */
  authorities: string[];
  /** For eip4844: the network form carrying one (zero) blob, its commitment and proof. */
  network: Uint8Array | null;
}

const ROUTER_ABI = parseAbi([
  'function swapExactTokensForTokens(uint256 amountIn, uint256 amountOutMin, address[] path, address to, uint256 deadline)',
]);

/** 20 random bytes as an address. */
function randomAddress(rng: () => number): Hex {
  let s = '0x';
  for (let i = 0; i < 20; i++) s += Math.floor(rng() * 256).toString(16).padStart(2, '0');
  return s as Hex;
}

/** 0x-hex of a bigint, as RPC quantities are written. */
const q = (v: bigint | number) => toHex(v);

/** Versioned hash of a KZG commitment (EIP-4844): sha256 with the first byte set to 0x01. */
export function versionedHash(commitment: Uint8Array): Hex {
  const d = createHash('sha256').update(commitment).digest();
  d[0] = 0x01;
  return toHex(d);
}

/**
 * `perKind` signed transactions of each kind (legacy without and with EIP-155, 2930, 1559, 4844,
 * 7702), from seeded keys and fields: Uniswap-style swap calldata, access lists, 1–2 blobs, 1–3
 * authorizations. Deterministic for a seed.
 */
export async function generateTransactions(seed: number, perKind: number): Promise<Generated[]> {
  const rng = mulberry32(seed);
  const int = (n: number) => Math.floor(rng() * n);
  const out: Generated[] = [];
  const kinds: Generated['kind'][] = ['legacy', 'eip155', 'eip2930', 'eip1559', 'eip4844', 'eip7702'];
  for (let i = 0; i < perKind; i++) {
    for (const kind of kinds) {
      const key = keccak256(toHex(`orion-${seed}-${kind}-${i}`));
      const account = privateKeyToAccount(key);
      const chainId = [1, 10, 8453, 31337][int(4)]!;
      const nonce = int(5000);
      const to = randomAddress(rng);
      const data = rng() < 0.8
        ? encodeFunctionData({ abi: ROUTER_ABI, functionName: 'swapExactTokensForTokens', args: [BigInt(int(1e9)) * 10n ** 9n, BigInt(int(1e9)), [randomAddress(rng), randomAddress(rng)], account.address, BigInt(1_700_000_000 + int(1e6))] })
        : '0x';
      const value = rng() < 0.5 ? 0n : BigInt(int(1e9)) * 10n ** 9n;
      const gas = 21_000n + BigInt(int(400_000)) + 60_000n;
      const maxFeePerGas = BigInt(1 + int(200)) * 10n ** 9n;
      const maxPriorityFeePerGas = maxFeePerGas / BigInt(1 + int(10));
      const accessList = rng() < 0.5 ? [] : [{ address: randomAddress(rng), storageKeys: [keccak256(toHex(i)), keccak256(toHex(i + 1))] }];
      const common = { nonce, to, data: data as Hex, value, gas };
      let hex: Hex;
      let type: number;
      let network: Uint8Array | null = null;
      const authorities: string[] = [];
      let extra: Record<string, unknown> = {};
      if (kind === 'legacy' || kind === 'eip155') {
        type = 0;
        hex = await account.signTransaction({ type: 'legacy', ...common, gasPrice: maxFeePerGas, ...(kind === 'eip155' ? { chainId } : {}) });
      } else if (kind === 'eip2930') {
        type = 1;
        hex = await account.signTransaction({ type: 'eip2930', ...common, chainId, gasPrice: maxFeePerGas, accessList });
      } else if (kind === 'eip1559') {
        type = 2;
        hex = await account.signTransaction({ type: 'eip1559', ...common, chainId, maxFeePerGas, maxPriorityFeePerGas, accessList });
      } else if (kind === 'eip4844') {
        type = 3;
        const blobs = 1 + int(2);
        const commitments = Array.from({ length: blobs }, () => Uint8Array.from({ length: 48 }, () => int(256)));
        const blobVersionedHashes = commitments.map(versionedHash);
        const maxFeePerBlobGas = BigInt(1 + int(100)) * 10n ** 9n;
        hex = await account.signTransaction({ type: 'eip4844', ...common, chainId, maxFeePerGas, maxPriorityFeePerGas, accessList, maxFeePerBlobGas, blobVersionedHashes });
        extra = { maxFeePerBlobGas: q(maxFeePerBlobGas), blobVersionedHashes };
        // Network form: type ‖ rlp([body, blobs, commitments, proofs]), the body being the
        // canonical payload's field list. Blobs are zero bytes and proofs arbitrary: not KZG-verified.
        const wrapped = toRlp([
          fromRlp(`0x${hex.slice(4)}`, 'hex'),
          commitments.map(() => toHex(new Uint8Array(131_072))),
          commitments.map((c) => toHex(c)),
          commitments.map(() => toHex(new Uint8Array(48).fill(0xab))),
        ] as never);
        network = fromHex(`0x03${wrapped.slice(2)}`);
      } else {
        type = 4;
        const n = 1 + int(3);
        const authorizationList = [];
        for (let a = 0; a < n; a++) {
          const signer = privateKeyToAccount(keccak256(toHex(`authority-${seed}-${i}-${a}`)));
          authorizationList.push(await signer.signAuthorization({ address: randomAddress(rng), chainId: a === 0 ? 0 : chainId, nonce: int(100) }));
          authorities.push(signer.address.toLowerCase());
        }
        hex = await account.signTransaction({ type: 'eip7702', ...common, chainId, maxFeePerGas, maxPriorityFeePerGas, accessList, authorizationList });
        extra = {
          authorizationList: authorizationList.map((a) => ({ chainId: q(a.chainId), address: a.address, nonce: q(a.nonce), yParity: q(a.yParity!), r: a.r, s: a.s })),
        };
      }
      const parsed = parseTransaction(hex);
      const hash = keccak256(hex);
      const rpc: Record<string, unknown> = {
        hash,
        type: q(type),
        nonce: q(nonce),
        from: account.address.toLowerCase(),
        to,
        value: q(value),
        gas: q(gas),
        input: data,
        r: q(BigInt(parsed.r!)),
        s: q(BigInt(parsed.s!)),
        v: type === 0 ? q(parsed.v!) : q(parsed.yParity!),
        ...(type === 0 ? { gasPrice: q(maxFeePerGas) } : { chainId: q(chainId), yParity: q(parsed.yParity!), accessList }),
        ...(type === 1 ? { gasPrice: q(maxFeePerGas) } : {}),
        ...(type >= 2 ? { maxFeePerGas: q(maxFeePerGas), maxPriorityFeePerGas: q(maxPriorityFeePerGas), gasPrice: q(maxFeePerGas) } : {}),
        ...(kind === 'eip155' ? { chainId: q(chainId) } : {}),
        ...extra,
      };
      out.push({ kind, type, hex, bytes: fromHex(hex)!, hash, from: account.address.toLowerCase(), rpc, authorities, network });
    }
  }
  return out;
}
