import { type AddressInfo, type Server, type Socket, connect, createServer } from 'node:net';

/** A TCP proxy in front of anvil whose connections a test can cut, and which can refuse for a while. */
export class TcpProxy {
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();
  /** While true, connections are accepted and dropped at once (a node restarting). */
  refusing = false;

  constructor(targetPort: number) {
    this.server = createServer((client) => {
      if (this.refusing) {
        client.destroy();
        return;
      }
      const up = connect(targetPort, '127.0.0.1');
      for (const [a, b] of [[client, up], [up, client]] as const) {
        this.sockets.add(a);
        a.on('error', () => {});
        a.on('close', () => {
          this.sockets.delete(a);
          b.destroy();
        });
        a.pipe(b);
      }
    });
  }

  listen(port = 0): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, '127.0.0.1', () => resolve((this.server.address() as AddressInfo).port));
    });
  }

  /** Destroys every proxied connection (both sides), as a network failure would. */
  cut(): void {
    for (const s of this.sockets) s.destroy();
  }

  close(): Promise<void> {
    this.cut();
    return new Promise((r) => this.server.close(() => r()));
  }
}
