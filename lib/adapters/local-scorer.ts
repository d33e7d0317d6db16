/** The `local` protocol: the same ONNX model run in this process by onnxruntime, no HTTP. */
import { LoadedModel } from '../onnx/loaded-model.js';
import type { ModelVersionFiles } from '../model-files.js';
import type { BatchScorer } from './types.js';

/** A scorer of `outputs` (default: every output of the model). */
export async function createLocalScorer(
  files: ModelVersionFiles,
  outputs?: readonly string[],
): Promise<BatchScorer> {
  const model = await LoadedModel.load(files);
  const names = outputs ?? files.contract.outputs.map((o) => o.name);
  return {
    score: (inputs) => model.run(inputs, names),
    close: () => model.close(),
  };
}
