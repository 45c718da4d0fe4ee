import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** Listens on 127.0.0.1 and a port the kernel picks; resolves with `http://127.0.0.1:<port>`. */
export async function listenOnLoopback(server: Server): Promise<string> {
  // Keep-alive beyond the engine's gaps between batches, so connections are reused rather than redone.
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}
