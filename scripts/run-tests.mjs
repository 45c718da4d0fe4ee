#!/usr/bin/env node
// Runs every compiled test file (dist/test/**/*.test.js) with node:test, one file at a time: the
// tests start real worker threads, and on a 2-core machine two files at once would starve each
// other's watchdogs. Passing paths narrows the run: `node scripts/run-tests.mjs ring supervisor`.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const dir = join(root, 'dist', 'test');

function walk(d) {
  return readdirSync(d).flatMap((name) => {
    const p = join(d, name);
    return statSync(p).isDirectory() ? walk(p) : name.endsWith('.test.js') ? [p] : [];
  });
}

const filters = process.argv.slice(2);
const files = walk(dir)
  .filter((f) => filters.length === 0 || filters.some((x) => relative(dir, f).includes(x)))
  .sort();
if (files.length === 0) {
  console.error(`no test files under ${relative(root, dir)} match ${filters.join(' ') || '(all)'}; did the build run?`);
  process.exit(1);
}
const r = spawnSync(process.execPath, ['--test', '--test-concurrency=1', '--test-reporter=spec', ...files], { stdio: 'inherit', cwd: root });
process.exit(r.status ?? 1);
