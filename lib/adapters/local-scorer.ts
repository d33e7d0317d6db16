/** The `local` protocol: the same ONNX model run in this process by onnxruntime, no HTTP. */
import * as ort from 'onnxruntime-node';
import { LoadedModel } from '../onnx/loaded-model.js';
import type { ModelVersionFiles } from '../model-files.js';
import type { BatchScorer } from './types.js';

export async function createLocalScorer(files: ModelVersionFiles): Promise<BatchScorer> {
  const model = await LoadedModel.load(files);
  const input = files.contract.inputs[0]?.name ?? 'features';
  const output = files.contract.outputs[0]?.name ?? 'probabilities';
  return {
    async score(tensor, rows) {
      const feeds = { [input]: new ort.Tensor('float32', tensor, [rows, tensor.length / rows]) };
      const [result] = await model.run(feeds, [output]);
      return result?.data as Float32Array;
    },
    close: () => model.close(),
  };
}
