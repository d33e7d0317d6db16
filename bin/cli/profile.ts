/**
 * `batch-infer profile`: computes a model's reference profile from its training data and writes it into the
 * model's model.json (lib/profile-model.ts), for drift and data-quality checks of later runs.
 */
import { INPUT_FORMATS, type InputFormat } from '../../lib/pipeline-options.js';
import { profileModel } from '../../lib/profile-model.js';
import { BUNDLED_MODELS_DIR } from '../../lib/model-files.js';
import { EXIT_OK } from './exit-codes.js';
import { choice, int, list, names, str, usageError, type Command } from './command.js';
import { FEATURES_FLAG, VERSION_FLAG } from './plan-flags.js';

export const profileCommand: Command = {
  name: 'profile',
  summary: "Compute a model's reference profile (for drift checks) from training data into its model.json.",
  options: {
    input: {
      type: 'string',
      short: 'i',
      multiple: true,
      value: '<file>',
      description: 'Training data (CSV or JSON Lines with a header); repeat for several files.',
    },
    'input-format': {
      type: 'string',
      value: 'csv|jsonl',
      description: 'Input format.',
      default: 'by extension',
    },
    model: { type: 'string', short: 'm', value: '<name>', description: 'Model name.', default: 'weather' },
    'model-version': VERSION_FLAG,
    models: {
      type: 'string',
      value: '<dir>',
      description: 'Model repository (model.json is written there).',
    },
    features: {
      ...FEATURES_FLAG,
      description: `${FEATURES_FLAG.description} Written into model.json's features.`,
    },
  },
  examples: ['batch-infer profile --models models --model titanic --input train.csv'],
  async run(values, io) {
    const input = list(values, 'input');
    if (input.length === 0) throw usageError('--input is required (the training data)');
    const models = str(values, 'models');
    if (models === undefined)
      throw usageError('--models is required: profile writes into the model repository');
    if (models === BUNDLED_MODELS_DIR)
      throw usageError('profile writes model.json: give a repository of your own');
    const features = names(values, 'features');
    const inputFormat = choice<InputFormat>('input-format', str(values, 'input-format'), INPUT_FORMATS);
    const version = int(values, 'model-version', 1);
    const result = await profileModel({
      input,
      models,
      model: str(values, 'model') ?? 'weather',
      ...(inputFormat === undefined ? {} : { inputFormat }),
      ...(version === undefined ? {} : { version }),
      ...(features === undefined ? {} : { features }),
    });
    const { rows, reference } = result;
    io.stdout.write(
      `Profiled ${rows.profiled} rows (${rows.rejected} left out) over ${reference.features.length} features: ${reference.features.map((f) => f.name).join(', ')}\n` +
        `Wrote the reference profile into ${result.path}\n`,
    );
    return EXIT_OK;
  },
};
