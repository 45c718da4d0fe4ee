import { createHash } from 'node:crypto';
import { Packr, Unpackr } from 'msgpackr';

/**
 * The one message schema of Orion, shared by every thread: the record kinds, their msgpackr
 * `structures` (fixed at start-up, never extended at run time, so every thread encodes a known shape
 * the same way), and a hash of both that a thread compares before it starts.
 */
export const SCHEMA_VERSION = 1;

/** Record kinds, as stored in the envelope's first byte. */
export const Kind = {
  /** A synthetic transaction from the synthetic pipeline (benchmarks, tests). */
  SyntheticTx: 1,
  /** A new head, carried in band on the same rings as transactions so every stage sees one order. */
  BlockEvent: 2,
} as const;
export type Kind = (typeof Kind)[keyof typeof Kind];

/** Kind number → name, for logs, dead letters and stats. */
export const KIND_NAMES: Readonly<Record<number, string>> = Object.freeze(
  Object.fromEntries(Object.entries(Kind).map(([name, id]) => [id, name])),
);

/** Payload of {@link Kind.SyntheticTx}: a stand-in transaction of configurable size. */
export interface SyntheticTx {
  /** Bytes standing in for the raw transaction. */
  body: Uint8Array;
  /** Count of stages that handled it, so tests see every stage ran. */
  hops: number;
}

/** Payload of {@link Kind.BlockEvent}. */
export interface BlockEvent {
  number: number;
  hash: string;
  parentHash: string;
  timestamp: number;
  baseFeePerGas: bigint | null;
}

/** Payload type of each kind. */
export interface PayloadOf {
  [Kind.SyntheticTx]: SyntheticTx;
  [Kind.BlockEvent]: BlockEvent;
}

/**
 * Shared record structures, one per payload shape, in a fixed order. Appending is compatible with
 * nothing older: every change bumps the schema hash, and threads built from another schema refuse
 * to start.
 */
const STRUCTURES: readonly (readonly string[])[] = [
  ['body', 'hops'],
  ['number', 'hash', 'parentHash', 'timestamp', 'baseFeePerGas'],
];

/** sha256 over the version, kinds and structures; identical in every thread of one build. */
export const SCHEMA_HASH: string = createHash('sha256')
  .update(JSON.stringify({ version: SCHEMA_VERSION, kinds: Kind, structures: STRUCTURES }))
  .digest('hex');

function options() {
  return {
    // Copies: msgpackr mutates the array it is given when it may share structures.
    structures: STRUCTURES.map((s) => [...s]),
    maxSharedStructures: STRUCTURES.length,
    // Unknown shapes are written inline, self-describing, instead of growing the shared set.
    shouldShareStructure: () => false,
    useBigIntExtension: true,
    // Byte payloads must not alias the reader's reused copy buffer.
    copyBuffers: true,
  };
}

/** A packer bound to the shared structures. One per thread: msgpackr packers are not re-entrant. */
export function createPackr(): Packr {
  return new Packr(options());
}

/** An unpacker bound to the shared structures. */
export function createUnpackr(): Unpackr {
  return new Unpackr(options());
}
