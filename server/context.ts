/** What route handlers share: the repository, metrics, resolved options and the server's state. */
import type { Logger } from 'pino';
import type { ModelRepository } from './repository.js';
import type { ServerMetrics } from './metrics.js';
import type { ResolvedServerOptions } from './options.js';

export interface ServerContext {
  version: string;
  repository: ModelRepository;
  metrics: ServerMetrics;
  options: ResolvedServerOptions;
  logger: Logger;
  isReady(): boolean;
}
