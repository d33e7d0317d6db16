/** A real model server listening on REST and gRPC on free loopback ports, for the gRPC tests. */
import type { Test } from 'tap';
import { listen } from '../../bin/cli/listen.js';
import { createModelServer, type ModelServerOptions } from '../../server/index.js';

export interface Servers {
  /** The REST base URL. */
  url: string;
  /** The gRPC address, `127.0.0.1:<port>`. */
  grpc: string;
}

/** Starts a server with both protocols; everything is closed when the test ends. */
export async function startServers(t: Test, options: ModelServerOptions = {}): Promise<Servers> {
  const modelServer = createModelServer(options);
  const grpcServer = await modelServer.createGrpcServer();
  const port = await grpcServer.listen(0, '127.0.0.1');
  const listening = await listen(modelServer, 0, '127.0.0.1');
  await modelServer.loaded;
  t.teardown(async () => {
    await Promise.all([grpcServer.close(), listening.close()]);
  });
  return { url: listening.url, grpc: `127.0.0.1:${port}` };
}
