/** The flags that say how a model's inputs and outputs map onto columns (`run`, `evaluate`, `inspect`, `profile`). */
import type { OptionSpec } from './command.js';

export const FEATURES_FLAG: OptionSpec = {
  type: 'string',
  value: '<a,b,…>',
  description:
    "The K columns, in order, that feed a model's one [N, K] input when its model.json has no feature spec.",
  default: 'the feature spec, or the column named after each input',
};

export const OUTPUTS_FLAG: OptionSpec = {
  type: 'string',
  value: '<a,b,…>',
  description: 'Output tensors to ask for and write, in this order.',
  default: 'all',
};

/** `--model-version`, for the commands that read a model from a repository. */
export const VERSION_FLAG: OptionSpec = {
  type: 'string',
  value: '<n>',
  description: 'Model version.',
  default: "the model's default version",
};
