/** Options of `createModelServer`, normalized once into a frozen object. */
import type { Logger } from 'pino';
import { integerOption, refuseUnknownKeys, stringOption } from '../lib/core/options.js';
import { BUNDLED_MODELS_DIR } from '../lib/model-files.js';

export interface ModelServerOptions {
  /**
   * Model repository directory: `<dir>/<model>/<version>/model.onnx` + `model.json`.
   * @default the repository bundled with batch-infer (the `weather` model)
   */
  models?: string;
  /**
   * Largest request body accepted, in bytes; larger bodies get 413.
   * @default 67108864 (64 MiB, as Triton's --http-max-input-size)
   */
  maxBodyBytes?: number;
  /**
   * pino logger for request failures and model loading.
   * @default a silent logger
   */
  logger?: Logger;
}

export interface ResolvedServerOptions {
  readonly models: string;
  readonly maxBodyBytes: number;
}

const KNOWN = ['models', 'maxBodyBytes', 'logger'] as const;

export function normalizeServerOptions(options: ModelServerOptions): ResolvedServerOptions {
  refuseUnknownKeys('createModelServer', options, KNOWN);
  return Object.freeze({
    models: stringOption('models', options.models, BUNDLED_MODELS_DIR),
    maxBodyBytes: integerOption('maxBodyBytes', options.maxBodyBytes, 64 * 1024 * 1024, 1),
  });
}
