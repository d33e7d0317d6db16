/** Listens with a model server's app and closes it gracefully: stop accepting, drain, release models. */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ModelServer } from '../../server/index.js';

export interface Listening {
  server: Server;
  url: string;
  /** Stops accepting connections, lets in-flight requests finish (up to `graceMs`), then releases the models. */
  close(graceMs?: number): Promise<void>;
}

export async function listen(modelServer: ModelServer, port: number, host: string): Promise<Listening> {
  const server = modelServer.createHttpServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const shown = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    server,
    url: `http://${shown}:${address.port}`,
    async close(graceMs = 10_000) {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      await modelServer.close({ graceMs });
      // Keep-alive connections that still linger after the drain would hold `closed` open.
      server.closeAllConnections();
      await closed;
    },
  };
}
