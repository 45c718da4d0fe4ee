import { type RequestListener, type Server, createServer } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/** A throwaway HTTP server on 127.0.0.1 (a kernel-picked port) for tests of clients. */
export interface TestHttpServer {
  server: Server;
  /** `http://127.0.0.1:<port>/` */
  url: string;
  /** Destroys open connections (a handler may leave requests hanging on purpose) and closes. */
  close(): Promise<void>;
}

export async function startHttpServer(handler: RequestListener): Promise<TestHttpServer> {
  const server = createServer(handler);
  const sockets = new Set<Socket>();
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    server,
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
