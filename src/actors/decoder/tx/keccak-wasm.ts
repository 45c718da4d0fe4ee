/**
 * Keccak-256 on WebAssembly, assembled at load time from the specification's tables (no binary is
 * checked in): the permutation keeps its 25 lanes in i64 locals, so each rotation is one `i64.rotl`
 * where JavaScript needs four 32-bit shifts. The decoder hashes every transaction twice (its hash
 * and its signing hash) plus once per recovered key; this path made hashing ~4x cheaper than the
 * unrolled JS one (keccak.ts), which remains the fallback where WebAssembly is unavailable.
 *
 * Memory layout (one 64 KiB page, never grown, so views of it stay valid):
 *
 * | offset | bytes | what |
 * |---|---|---|
 * | 0 | 200 | state: 25 little-endian u64 lanes |
 * | 256 | 192 | round constants, 24 u64 (data segment) |
 * | 512 | 54,400 | input: up to 400 blocks of 136 bytes per `absorb` call |
 */

const STATE = 0;
const RC_AT = 256;
const INPUT = 512;
const RATE = 136;
/** Blocks copied in per `absorb` call; the input area holds this many. */
const CHUNK_BLOCKS = 400;

/** Rotation offsets r[x][y] and round constants, derived as the specification defines them. */
function tables(): { rot: number[][]; rc: bigint[] } {
  const rot = Array.from({ length: 5 }, () => new Array<number>(5).fill(0));
  for (let t = 0, x = 1, y = 0; t < 24; t++) {
    rot[x]![y] = (((t + 1) * (t + 2)) / 2) % 64;
    [x, y] = [y, (2 * x + 3 * y) % 5];
  }
  const rc: bigint[] = [];
  let lfsr = 1;
  const bit = () => {
    const out = lfsr & 1;
    lfsr = lfsr & 0x80 ? ((lfsr << 1) ^ 0x71) & 0xff : lfsr << 1;
    return out;
  };
  for (let i = 0; i < 24; i++) {
    let c = 0n;
    for (let j = 0; j < 7; j++) if (bit()) c |= 1n << BigInt((1 << j) - 1);
    rc.push(c);
  }
  return { rot, rc };
}

function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n !== 0) b |= 0x80;
    out.push(b);
  } while (n !== 0);
  return out;
}

/** Signed LEB128 of a small i32 constant. */
function sleb(n: number): number[] {
  const out: number[] = [];
  for (;;) {
    const b = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (b & 0x40) === 0) || (n === -1 && (b & 0x40) !== 0)) {
      out.push(b);
      return out;
    }
    out.push(b | 0x80);
  }
}

const vec = (items: number[][]): number[] => [...uleb(items.length), ...items.flat()];
const section = (id: number, body: number[]): number[] => [id, ...uleb(body.length), ...body];
const name = (s: string): number[] => [...uleb(s.length), ...[...s].map((c) => c.charCodeAt(0))];

// Opcodes used.
const LOCAL_GET = 0x20;
const LOCAL_SET = 0x21;
const LOCAL_TEE = 0x22;
const I64_LOAD = 0x29;
const I64_STORE = 0x37;
const I32_CONST = 0x41;
const I64_CONST = 0x42;
const I32_EQZ = 0x45;
const I32_NE = 0x47;
const I32_ADD = 0x6a;
const I32_SUB = 0x6b;
const I32_SHL = 0x74;
const I64_AND = 0x83;
const I64_XOR = 0x85;
const I64_ROTL = 0x89;
const BLOCK = 0x02;
const LOOP = 0x03;
const BR = 0x0c;
const BR_IF = 0x0d;
const END = 0x0b;
const VOID = 0x40;

/** The module: `absorb(blocks)` xors `blocks` input blocks into the state, permuting after each. */
function assemble(): Uint8Array {
  const { rot, rc } = tables();
  // Locals: 0 = blocks (param), 1 = p, 2 = round; s0–s24, b0–b24, c0–c4, t (i64).
  const P = 1;
  const ROUND = 2;
  const s = (i: number) => 3 + i;
  const b = (i: number) => 28 + i;
  const c = (x: number) => 53 + x;
  const T = 58;
  const code: number[] = [];
  const get = (l: number) => code.push(LOCAL_GET, ...uleb(l));
  const set = (l: number) => code.push(LOCAL_SET, ...uleb(l));
  const lane = (x: number, y: number) => x + 5 * y;

  for (let i = 0; i < 25; i++) {
    code.push(I32_CONST, 0, I64_LOAD, 3, ...uleb(STATE + 8 * i));
    set(s(i));
  }
  code.push(I32_CONST, ...sleb(INPUT));
  set(P);
  code.push(BLOCK, VOID, LOOP, VOID);
  get(0);
  code.push(I32_EQZ, BR_IF, 1);
  // Absorb one block: 17 lanes.
  for (let i = 0; i < 17; i++) {
    get(s(i));
    get(P);
    code.push(I64_LOAD, 3, ...uleb(8 * i), I64_XOR);
    set(s(i));
  }
  code.push(I32_CONST, 0);
  set(ROUND);
  code.push(LOOP, VOID);
  // θ
  for (let x = 0; x < 5; x++) {
    get(s(lane(x, 0)));
    for (let y = 1; y < 5; y++) {
      get(s(lane(x, y)));
      code.push(I64_XOR);
    }
    set(c(x));
  }
  for (let x = 0; x < 5; x++) {
    get(c((x + 4) % 5));
    get(c((x + 1) % 5));
    code.push(I64_CONST, 1, I64_ROTL, I64_XOR);
    set(T);
    for (let y = 0; y < 5; y++) {
      get(s(lane(x, y)));
      get(T);
      code.push(I64_XOR);
      set(s(lane(x, y)));
    }
  }
  // ρ and π
  for (let x = 0; x < 5; x++) {
    for (let y = 0; y < 5; y++) {
      get(s(lane(x, y)));
      const r = rot[x]![y]!;
      if (r !== 0) code.push(I64_CONST, ...sleb(r), I64_ROTL);
      set(b(lane(y, (2 * x + 3 * y) % 5)));
    }
  }
  // χ
  for (let y = 0; y < 5; y++) {
    for (let x = 0; x < 5; x++) {
      get(b(lane(x, y)));
      get(b(lane((x + 1) % 5, y)));
      code.push(I64_CONST, 0x7f, I64_XOR); // ~b
      get(b(lane((x + 2) % 5, y)));
      code.push(I64_AND, I64_XOR);
      set(s(lane(x, y)));
    }
  }
  // ι: s0 ^= RC[round]
  get(s(0));
  get(ROUND);
  code.push(I32_CONST, 3, I32_SHL, I64_LOAD, 3, ...uleb(RC_AT), I64_XOR);
  set(s(0));
  get(ROUND);
  code.push(I32_CONST, 1, I32_ADD, LOCAL_TEE, ...uleb(ROUND), I32_CONST, 24, I32_NE, BR_IF, 0, END);
  // Next block.
  get(P);
  code.push(I32_CONST, ...sleb(RATE), I32_ADD);
  set(P);
  get(0);
  code.push(I32_CONST, 1, I32_SUB);
  set(0);
  code.push(BR, 0, END, END);
  for (let i = 0; i < 25; i++) {
    code.push(I32_CONST, 0);
    get(s(i));
    code.push(I64_STORE, 3, ...uleb(STATE + 8 * i));
  }
  code.push(END);

  const body = [...vec([[2, 0x7f], [56, 0x7e]]), ...code];
  const rcBytes: number[] = [];
  for (const v of rc) for (let k = 0n; k < 64n; k += 8n) rcBytes.push(Number((v >> k) & 0xffn));
  return Uint8Array.from([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, vec([[0x60, 1, 0x7f, 0]])),
    ...section(3, vec([[0]])),
    ...section(5, vec([[0x00, 1]])),
    ...section(7, vec([[...name('absorb'), 0x00, 0], [...name('memory'), 0x02, 0]])),
    ...section(10, vec([[...uleb(body.length), ...body]])),
    ...section(11, vec([[0x00, I32_CONST, ...sleb(RC_AT), END, ...uleb(rcBytes.length), ...rcBytes]])),
  ]);
}

/** The part of the WebAssembly API used here (the project's `lib` has no WebAssembly typings). */
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object) => { exports: { absorb: (blocks: number) => void; memory: { buffer: ArrayBuffer } } };
}

/** Signature of a keccak-256 into a caller's buffer. */
export type Keccak256Into = (data: Uint8Array, start: number, end: number, out: Uint8Array, outOff: number) => void;

/**
 * Builds the WebAssembly keccak-256, or returns null (with the reason in `onError`) where
 * WebAssembly cannot be compiled. The returned function allocates nothing but two views per call.
 */
export function createWasmKeccak(onError?: (err: unknown) => void): Keccak256Into | null {
  let absorb: (blocks: number) => void;
  let mem: Uint8Array;
  try {
    const api = (globalThis as { WebAssembly?: WasmApi }).WebAssembly;
    if (api === undefined) throw new Error('WebAssembly is not available');
    const exports = new api.Instance(new api.Module(assemble())).exports;
    absorb = exports.absorb;
    mem = new Uint8Array(exports.memory.buffer);
  } catch (err) {
    onError?.(err);
    return null;
  }
  return (data, start, end, out, outOff) => {
    mem.fill(0, STATE, STATE + 200);
    let pos = start;
    while (end - pos >= RATE) {
      const blocks = Math.min(CHUNK_BLOCKS, Math.floor((end - pos) / RATE));
      mem.set(data.subarray(pos, pos + blocks * RATE), INPUT);
      absorb(blocks);
      pos += blocks * RATE;
    }
    // Last block: the remaining bytes, then Keccak's pad10*1 with domain byte 0x01.
    const n = end - pos;
    for (let i = 0; i < n; i++) mem[INPUT + i] = data[pos + i]!;
    mem.fill(0, INPUT + n, INPUT + RATE);
    mem[INPUT + n] = 0x01;
    mem[INPUT + RATE - 1] = mem[INPUT + RATE - 1]! | 0x80;
    absorb(1);
    for (let i = 0; i < 32; i++) out[outOff + i] = mem[STATE + i]!;
  };
}
