/** The flags that choose a model and where it runs, shared by every command that scores (`run`, `evaluate`). */
import type { OptionSpec } from './command.js';

export const MODEL_FLAGS: Readonly<Record<string, OptionSpec>> = {
  url: {
    type: 'string',
    value: '<url>',
    description: 'Model server base URL.',
    default: 'none: score in process',
  },
  model: { type: 'string', short: 'm', value: '<name>', description: 'Model name.', default: 'weather' },
  'model-version': {
    type: 'string',
    value: '<n>',
    description: 'Model version.',
    default: "the model's default version: its config.json's default_version, else the latest",
  },
  models: {
    type: 'string',
    value: '<dir>',
    description:
      'Model repository for in-process scoring (and the contract of a bare SageMaker/Vertex server).',
    default: 'the bundled models',
  },
};
