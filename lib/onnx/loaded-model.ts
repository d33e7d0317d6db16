/**
 * One loaded model version: its contract and an onnxruntime session, run on the calling thread. The in-process
 * (`local`) scorer uses it; the server runs sessions in its worker pool instead (server/inference/).
 */
import * as ort from 'onnxruntime-node';
import { BatchInferError, ErrorCodes } from '../errors.js';
import type { ModelContract } from '../core/model-contract.js';
import type { Tensor } from '../core/tensor.js';
import type { ModelVersionFiles } from '../model-files.js';
import { ortFeeds, outputTensors } from './tensors.js';

export class LoadedModel {
  readonly name: string;
  readonly version: number;
  readonly contract: ModelContract;
  readonly #session: ort.InferenceSession;

  private constructor(files: ModelVersionFiles, session: ort.InferenceSession) {
    this.name = files.name;
    this.version = files.version;
    this.contract = files.contract;
    this.#session = session;
  }

  static async load(
    files: ModelVersionFiles,
    options: { intraOpNumThreads?: number } = {},
  ): Promise<LoadedModel> {
    let session: ort.InferenceSession;
    try {
      session = await ort.InferenceSession.create(files.onnx, {
        intraOpNumThreads: options.intraOpNumThreads ?? 1,
        interOpNumThreads: 1,
        graphOptimizationLevel: 'all',
      });
    } catch (cause) {
      throw new BatchInferError(ErrorCodes.MODEL_CONTRACT, `Cannot load ${files.onnxPath} with onnxruntime`, {
        cause,
        context: { model: files.name },
      });
    }
    return new LoadedModel(files, session);
  }

  /** Runs the model; `outputNames` defaults to every output in the contract. */
  async run(inputs: readonly Tensor[], outputNames?: readonly string[]): Promise<Tensor[]> {
    const names = outputNames ?? this.contract.outputs.map((o) => o.name);
    try {
      return outputTensors(await this.#session.run(ortFeeds(inputs), [...names]), names);
    } catch (cause) {
      throw new BatchInferError(ErrorCodes.INFERENCE, `Inference failed for model ${this.name}`, {
        cause,
        context: { model: this.name },
      });
    }
  }

  async close(): Promise<void> {
    await this.#session.release();
  }
}
