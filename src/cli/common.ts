/** Prints `orion: <message>` to stderr and exits (2: usage error, 1: runtime failure). */
export function fail(message: string, code = 2): never {
  process.stderr.write(`orion: ${message}\n`);
  process.exit(code);
}
