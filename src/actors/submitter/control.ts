/**
 * Shared memory between the main thread (gateway, CLI) and the submitter's thread: the signing keys
 * (never in a config slice, which logs and captures may print) and the operator's pause, resume,
 * reset and cancel requests, with the submitter's state published back.
 */

/** Bytes of the secrets buffer: flags, the signer's key, the relay auth key. */
const SECRETS_BYTES = 8 + 32 + 32;

/** A buffer holding the signing key and the relay auth key (each optional). */
export function secretsBuffer(keys: { signer?: Uint8Array | null; relayAuth?: Uint8Array | null }): SharedArrayBuffer {
  const sab = new SharedArrayBuffer(SECRETS_BYTES);
  const flags = new Int32Array(sab, 0, 2);
  const bytes = new Uint8Array(sab);
  if (keys.signer) {
    if (keys.signer.length !== 32) throw new TypeError('signer key must be 32 bytes');
    bytes.set(keys.signer, 8);
    flags[0] = 1;
  }
  if (keys.relayAuth) {
    if (keys.relayAuth.length !== 32) throw new TypeError('relay auth key must be 32 bytes');
    bytes.set(keys.relayAuth, 40);
    flags[1] = 1;
  }
  return sab;
}

/** Reads the keys out of {@link secretsBuffer} (copies; the caller wipes them after use). */
export function readSecrets(sab: SharedArrayBuffer | undefined): { signer: Uint8Array | null; relayAuth: Uint8Array | null } {
  if (sab === undefined) return { signer: null, relayAuth: null };
  const flags = new Int32Array(sab, 0, 2);
  const bytes = new Uint8Array(sab);
  return { signer: flags[0] === 1 ? bytes.slice(8, 40) : null, relayAuth: flags[1] === 1 ? bytes.slice(40, 72) : null };
}

/** Slots of the control buffer (Int32). */
export const CONTROL = {
  /** Bumped by the operator: pause, resume, reset (breakers and the guard). */
  PAUSE_SEQ: 0,
  RESUME_SEQ: 1,
  RESET_SEQ: 2,
  /** Published by the submitter: 0 running, 1 paused by the operator, 2 by losses, 3 by reverts. */
  PAUSED: 3,
  /** 1 when it sends (a key is loaded and mode is auto), 0 for dry run. */
  LIVE: 4,
  /** Breaker state per route (0 closed, 1 open, 2 half-open), in {@link BREAKER_ROUTES} order (4 slots). */
  BREAKERS: 5,
  /** Published by the submitter: submissions waiting in its send queue (for a slot or a retry). */
  QUEUE_DEPTH: 9,
  /** Published by the submitter: submissions being built, signed and sent. */
  SENDS_IN_FLIGHT: 10,
  /** Bumped by the operator after writing a cancel request into {@link CONTROL.CANCEL_BOX}. */
  CANCEL_SEQ: 11,
  /** Published by the submitter: cancel requests it has taken (the mailbox is full when CANCEL_SEQ − CANCEL_TAKEN = CANCEL_SLOTS). */
  CANCEL_TAKEN: 12,
  /** First of {@link CANCEL_SLOTS} slots of 8 Int32 each: the 32-byte submission id of a cancel request. */
  CANCEL_BOX: 13,
} as const;

/**
 * Cancel requests the mailbox holds before the submitter takes them (it polls every 100 ms).
 *
 * ```
 *   slot k (k = seq mod CANCEL_SLOTS):  Int32[CANCEL_BOX + 8k … CANCEL_BOX + 8k + 7] = id bytes 0…31
 *   writer (main thread): store the 8 words, then Atomics.add(CANCEL_SEQ, 1)
 *   reader (submitter):   load CANCEL_SEQ, read the slots up to it, then store CANCEL_TAKEN
 * ```
 */
export const CANCEL_SLOTS = 8;

/** Routes whose breaker state {@link CONTROL.BREAKERS} publishes, in slot order. */
export const BREAKER_ROUTES = ['flashbots', 'mev-blocker', 'private-rpc', 'public'] as const;

// The breaker slots end where the queue's begin: a route added to BREAKER_ROUTES needs the layout moved.
if (CONTROL.BREAKERS + BREAKER_ROUTES.length > CONTROL.QUEUE_DEPTH) throw new Error('control layout: breaker slots overlap the queue slots');

const SLOTS = CONTROL.CANCEL_BOX + CANCEL_SLOTS * 8;

/** A fresh control buffer. */
export function controlBuffer(): SharedArrayBuffer {
  return new SharedArrayBuffer(SLOTS * 4);
}

export const PAUSE_SOURCES = ['running', 'operator', 'losses', 'reverts'] as const;
export const BREAKER_STATES = ['closed', 'open', 'half-open'] as const;

/** The submitter's state as the main thread sees it. */
export interface SubmitterState {
  live: boolean;
  paused: (typeof PAUSE_SOURCES)[number];
  breakers: Record<(typeof BREAKER_ROUTES)[number], (typeof BREAKER_STATES)[number]>;
  /** Submissions waiting in the send queue (for a slot or a retry's backoff). */
  queueDepth: number;
  /** Submissions being built, signed and sent. */
  sendsInFlight: number;
}

/** Reads {@link SubmitterState} from a control buffer. */
export function readControl(sab: SharedArrayBuffer): SubmitterState {
  const i32 = new Int32Array(sab);
  const breakers = {} as SubmitterState['breakers'];
  BREAKER_ROUTES.forEach((r, k) => {
    breakers[r] = BREAKER_STATES[Atomics.load(i32, CONTROL.BREAKERS + k)] ?? 'closed';
  });
  return {
    live: Atomics.load(i32, CONTROL.LIVE) === 1,
    paused: PAUSE_SOURCES[Atomics.load(i32, CONTROL.PAUSED)] ?? 'running',
    breakers,
    queueDepth: Atomics.load(i32, CONTROL.QUEUE_DEPTH),
    sendsInFlight: Atomics.load(i32, CONTROL.SENDS_IN_FLIGHT),
  };
}

/** Asks the submitter to pause, resume or reset (breakers and the auto-pause guard); it acts at its next turn. */
export function requestControl(sab: SharedArrayBuffer, op: 'pause' | 'resume' | 'reset'): void {
  const i32 = new Int32Array(sab);
  Atomics.add(i32, op === 'pause' ? CONTROL.PAUSE_SEQ : op === 'resume' ? CONTROL.RESUME_SEQ : CONTROL.RESET_SEQ, 1);
}

/** A submission id as the submitter numbers them: 0x and 64 hex digits. */
const SUBMISSION_ID = /^0x[0-9a-fA-F]{64}$/;

/**
 * Asks the submitter to cancel submission `id` (queued, waiting for a retry, or sent and not yet
 * included); it acts at its next poll. Throws a TypeError for an id that is not 0x + 64 hex digits.
 * Returns false, asking nothing, when the mailbox is full (the submitter is not taking requests).
 * Called from one thread only (the main thread).
 */
export function requestCancel(sab: SharedArrayBuffer, id: string): boolean {
  if (typeof id !== 'string' || !SUBMISSION_ID.test(id)) throw new TypeError('id must be a submission id: 0x and 64 hex digits');
  const i32 = new Int32Array(sab);
  const seq = Atomics.load(i32, CONTROL.CANCEL_SEQ);
  if (seq - Atomics.load(i32, CONTROL.CANCEL_TAKEN) >= CANCEL_SLOTS) return false;
  const base = CONTROL.CANCEL_BOX + (seq % CANCEL_SLOTS) * 8;
  const bytes = Buffer.from(id.slice(2), 'hex');
  // Atomic stores, then the sequence bump: a reader that loads the new sequence sees the words
  // (sequentially consistent atomics order the stores before the add for every thread).
  for (let w = 0; w < 8; w++) Atomics.store(i32, base + w, bytes.readInt32LE(w * 4));
  Atomics.add(i32, CONTROL.CANCEL_SEQ, 1);
  return true;
}

/**
 * Takes the cancel requests written since `taken` (the submitter's side of {@link requestCancel}):
 * their ids, oldest first, and the new `taken` count, published back so the mailbox frees up.
 * At most {@link CANCEL_SLOTS} are read; a writer cannot lap the reader (it checks CANCEL_TAKEN).
 */
export function takeCancels(sab: SharedArrayBuffer, taken: number): { ids: string[]; taken: number } {
  const i32 = new Int32Array(sab);
  const seq = Atomics.load(i32, CONTROL.CANCEL_SEQ);
  const ids: string[] = [];
  const from = Math.max(taken, seq - CANCEL_SLOTS);
  const word = Buffer.alloc(32);
  for (let k = from; k < seq; k++) {
    const base = CONTROL.CANCEL_BOX + (((k % CANCEL_SLOTS) + CANCEL_SLOTS) % CANCEL_SLOTS) * 8;
    // Loaded after CANCEL_SEQ: the writer stored these words before it bumped the sequence.
    for (let w = 0; w < 8; w++) word.writeInt32LE(Atomics.load(i32, base + w), w * 4);
    ids.push(`0x${word.toString('hex')}`);
  }
  // Published after the slots are read: the writer may reuse them from now on.
  Atomics.store(i32, CONTROL.CANCEL_TAKEN, seq);
  return { ids, taken: seq };
}
