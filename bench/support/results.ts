import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Project root (benches run from dist/bench/…). */
export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

/** Writes `bench/results/<name>.json` in the shape the gate reads, and returns its path. */
export function writeResult(name: string, metrics: Record<string, number>, details: unknown = {}): string {
  const dir = join(ROOT, 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  const path = join(dir, `${name}.json`);
  writeFileSync(path, `${JSON.stringify({ name, date: new Date().toISOString(), node: process.version, metrics, details }, null, 2)}\n`);
  return path;
}

/** Resident set size in MiB. */
export function rssMiB(): number {
  return Math.round((process.memoryUsage().rss / 1048576) * 10) / 10;
}
