/** What route handlers share: the repository, metrics, resolved options and the server's state. */
import type { Logger } from 'pino';
import type { ServingRepository } from './serving-repository.js';
import type { ServerMetrics } from './metrics.js';
import type { ResolvedServerOptions } from './options.js';

export interface ServerContext {
  version: string;
  repository: ServingRepository;
  metrics: ServerMetrics;
  options: ResolvedServerOptions;
  logger: Logger;
  isReady(): boolean;
  /** True once shutdown has begun: new work is refused (503, or UNAVAILABLE over gRPC). */
  isClosing(): boolean;
}
