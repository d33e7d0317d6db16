/**
 * `batch-infer inspect <model>`: what a run or the server will make of a model — its contract (from the ONNX
 * graph, with model.json's additions), the column each input is read from and the columns the outputs become;
 * `--json` prints a model.json skeleton to start from instead.
 */
import { isBatchInferError } from '../../lib/errors.js';
import { planInputs, type InputPlan } from '../../lib/core/input-plan.js';
import type { ModelContract, PartialContract, TensorSpec } from '../../lib/core/model-contract.js';
import { planOutputs, type OutputPlan } from '../../lib/core/output-plan.js';
import { BUNDLED_MODELS_DIR, readModelArgument } from '../../lib/model-files.js';
import { EXIT_OK } from './exit-codes.js';
import { int, names, str, type Command } from './command.js';
import { FEATURES_FLAG, OUTPUTS_FLAG, VERSION_FLAG } from './plan-flags.js';

/** A plan, or why there is none (shown, not thrown: inspecting a model is how one finds out). */
function attempt<T>(plan: () => T): T | string {
  try {
    return plan();
  } catch (err) {
    if (isBatchInferError(err)) return err.message.replace(/^Model "[^"]*": /, '');
    throw err;
  }
}

const shape = (t: TensorSpec): string => `[${t.shape.join(', ')}]`;

function table(rows: string[][]): string[] {
  const widths = rows[0]?.map((_, j) => Math.max(...rows.map((r) => (r[j] ?? '').length))) ?? [];
  return rows.map((r) => `  ${r.map((cell, j) => cell.padEnd(widths[j] ?? 0)).join('  ')}`.trimEnd());
}

/** The columns an input is read from, per the plan. */
function inputColumns(plan: InputPlan, index: number, contract: ModelContract): string {
  if (contract.features.length > 0 && plan.monitored.length === contract.features.length && index === 0)
    return plan.columns.join(', ');
  const name = contract.inputs[index]?.name ?? '';
  const own = plan.columns.filter((c) => c === name || c.startsWith(`${name}_`));
  return (own.length > 0 ? own : plan.columns).join(', ');
}

function outputColumns(plan: OutputPlan, name: string): string {
  const { classifier } = plan;
  if (classifier?.label === name) return 'prediction';
  if (classifier?.probabilities === name)
    return [
      ...(classifier.label === undefined ? ['prediction'] : []),
      ...classifier.labels.map((l) => `probability_${l}`),
    ].join(', ');
  const plain = plan.plain.find((p) => p.name === name);
  return plain === undefined ? '(not written)' : plain.columns.join(', ');
}

function describe(
  contract: ModelContract,
  version: number,
  inputs: InputPlan | string,
  outputs: OutputPlan | string,
): string {
  const source = contract.source === 'graph' ? 'the ONNX graph' : 'model.json checked against the ONNX graph';
  const lines = [
    `${contract.name}${version > 0 ? `  version ${version}` : ''}  (contract from ${source})`,
    ...(contract.description === undefined ? [] : [contract.description]),
    '',
    'Inputs:',
    ...table([
      ['name', 'datatype', 'shape', 'read from column(s)'],
      ...contract.inputs.map((t, i) => [
        t.name,
        t.datatype,
        shape(t),
        typeof inputs === 'string' ? '?' : inputColumns(inputs, i, contract),
      ]),
    ]),
    ...(typeof inputs === 'string' ? [`  ! ${inputs}`] : []),
    '',
    'Outputs:',
    ...table([
      ['name', 'datatype', 'shape', 'written as column(s)'],
      ...contract.outputs.map((t) => [
        t.name,
        t.datatype,
        shape(t),
        typeof outputs === 'string' ? '?' : outputColumns(outputs, t.name),
      ]),
    ]),
    ...(typeof outputs === 'string' ? [`  ! ${outputs}`] : []),
    '',
    contract.labels.length > 0 ? `Labels: ${contract.labels.join(', ')}` : 'Labels: none (not a classifier)',
  ];
  if (typeof inputs !== 'string' && typeof outputs !== 'string') {
    lines.push(
      `A run reads the columns ${inputs.columns.join(', ')} and appends ${outputs.columns.join(', ')}.`,
    );
    if (inputs.fixedBatch !== undefined)
      lines.push(`It scores ${inputs.fixedBatch} row(s) per batch (a fixed batch dim).`);
  }
  return `${lines.join('\n')}\n`;
}

/** A model.json to start from: the contract as read, with features named for a `[N, K]` input. */
function skeleton(contract: ModelContract, features: readonly string[] | undefined): PartialContract {
  const [only] = contract.inputs;
  const k = only?.shape.length === 2 ? (only.shape[1] ?? -1) : -1;
  const names =
    features ??
    (contract.features.length === 0 && contract.inputs.length === 1 && k > 1
      ? Array.from({ length: k }, (_, j) => `${only?.name ?? 'input'}_${j}`)
      : undefined);
  // `source` and `platform` are the loader's to say, not a model.json's.
  const rest: Partial<ModelContract> = { ...contract };
  delete rest.source;
  delete rest.platform;
  return {
    ...(rest as PartialContract),
    description: contract.description ?? '',
    features: names === undefined ? contract.features : names.map((name) => ({ name, column: name })),
  };
}

export const inspectCommand: Command = {
  name: 'inspect',
  summary: "Show a model's contract, the column each input is read from and the columns a run writes.",
  positional: 'model',
  options: {
    model: {
      type: 'string',
      short: 'm',
      value: '<name|dir|file.onnx>',
      description:
        'The model: a name in --models, a model directory (<repo>/<model>), or an ONNX file (its model.json, if any, beside it).',
      default: 'weather',
    },
    'model-version': VERSION_FLAG,
    models: {
      type: 'string',
      value: '<dir>',
      description: 'Model repository.',
      default: 'the bundled models',
    },
    features: FEATURES_FLAG,
    outputs: OUTPUTS_FLAG,
    json: { type: 'boolean', description: 'Print a model.json skeleton for the model instead.' },
  },
  examples: [
    'batch-infer inspect weather',
    'batch-infer inspect models/titanic',
    'batch-infer inspect iris.onnx --features sepal_length,sepal_width,petal_length,petal_width',
    'batch-infer inspect models/titanic --json > models/titanic/1/model.json',
  ],
  async run(values, io) {
    const features = names(values, 'features');
    const outputs = names(values, 'outputs');
    const files = await readModelArgument(
      str(values, 'model') ?? 'weather',
      str(values, 'models') ?? BUNDLED_MODELS_DIR,
      int(values, 'model-version', 1),
    );
    const { contract } = files;
    if (values.json === true) {
      io.stdout.write(`${JSON.stringify(skeleton(contract, features), null, 2)}\n`);
      return EXIT_OK;
    }
    const inputPlan = attempt(() => planInputs(contract, features));
    const outputPlan = attempt(() => planOutputs(contract, outputs));
    io.stdout.write(describe(contract, files.version, inputPlan, outputPlan));
    return EXIT_OK;
  },
};
