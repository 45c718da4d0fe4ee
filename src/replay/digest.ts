import { createHash } from 'node:crypto';
import type { Opportunity } from '../actors/scorer/opportunity.js';
import type { Submission } from '../actors/submitter/submission.js';

/**
 * The replay digest: sha256 over the canonical, ordered outputs of a run, so two runs of the same
 * capture can be compared by one string.
 *
 * Canonical form: every opportunity record (each revision) and every submission record, without
 * their `timings` (monotonic clock stamps, different on every run), as JSON with sorted keys and
 * bigints as decimal strings, one line each, sorted by (record type, id, revision or status, then
 * the line itself). The order the pipeline emitted them in is not part of it: verification
 * outcomes leave the scorer as they finish, which depends on thread scheduling; their content does
 * not.
 */

/** One output a replay produces. */
export type ReplayOutput = { type: 'opportunity'; opportunity: Opportunity } | { type: 'submission'; submission: Submission };

/** JSON with sorted object keys, bigints as decimal strings and byte arrays as 0x-hex. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(v: unknown): unknown {
  if (typeof v === 'bigint') return v.toString();
  if (v instanceof Uint8Array) return `0x${Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('hex')}`;
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v !== null && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v).sort()) {
      const x = (v as Record<string, unknown>)[k];
      if (x !== undefined) out[k] = sortKeys(x);
    }
    return out;
  }
  return v;
}

/** The canonical line of one output (timings left out) and the key it sorts by. */
export function canonicalLine(o: ReplayOutput): { key: string; line: string } {
  if (o.type === 'opportunity') {
    const { timings: _t, ...rest } = o.opportunity;
    return { key: `o ${o.opportunity.id} ${o.opportunity.revision}`, line: canonicalJson({ t: 'opportunity', ...rest }) };
  }
  const { timings: _t, ...rest } = o.submission;
  return { key: `s ${o.submission.id} ${o.submission.status}`, line: canonicalJson({ t: 'submission', ...rest }) };
}

/** Accumulates outputs and computes the digest. @remarks Keeps one string per output until {@link digest}. */
export class OutputDigest {
  private readonly lines: { key: string; line: string }[] = [];

  add(o: ReplayOutput): void {
    this.lines.push(canonicalLine(o));
  }

  get count(): number {
    return this.lines.length;
  }

  /** `sha256:<64 hex>` over the sorted canonical lines, each followed by `\n`. */
  digest(): string {
    const sorted = [...this.lines].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : a.line < b.line ? -1 : a.line > b.line ? 1 : 0));
    const h = createHash('sha256');
    for (const l of sorted) h.update(`${l.line}\n`);
    return `sha256:${h.digest('hex')}`;
  }
}
