import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** The built `orion` entry (dist/src/cli.js). */
export const CLI = fileURLToPath(new URL('../../src/cli.js', import.meta.url));

/** What a finished `orion` process left. */
export interface CliRun {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `orion ARGS…` to its end; `onStderr` sees the stderr so far after each chunk (progress, printed URLs). */
export function runCli(args: string[], opts: { onStderr?: (text: string) => void; env?: NodeJS.ProcessEnv } = {}): Promise<CliRun> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'], ...(opts.env ? { env: opts.env } : {}) });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (c: Buffer) => (stdout += c));
    p.stderr.on('data', (c: Buffer) => {
      stderr += c;
      opts.onStderr?.(stderr);
    });
    p.on('exit', (status) => resolve({ status, stdout, stderr }));
  });
}
