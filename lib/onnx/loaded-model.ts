/**
 * One loaded model version: its contract and an onnxruntime session, run on the calling thread. The in-process
 * (`local`) scorer uses it; the server runs sessions in its worker pool instead (server/inference/).
 */
import * as ort from 'onnxruntime-node';
import { BatchInferError, ErrorCodes } from '../errors.js';
import type { ModelContract } from '../core/model-contract.js';
import type { ModelVersionFiles } from '../model-files.js';
import { datatypeOfOrt, type NumericDatatype } from '../core/datatypes.js';

export interface OutputTensor {
  name: string;
  datatype: NumericDatatype;
  shape: number[];
  data: ort.Tensor['data'];
}

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
      session = await ort.InferenceSession.create(files.onnxPath, {
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
    const missing = files.contract.inputs.filter((i) => !session.inputNames.includes(i.name));
    if (missing.length > 0) {
      await session.release();
      throw new BatchInferError(
        ErrorCodes.MODEL_CONTRACT,
        `model.json of ${files.name} declares input(s) ${missing.map((m) => m.name).join(', ')} that model.onnx lacks`,
        { context: { model: files.name } },
      );
    }
    return new LoadedModel(files, session);
  }

  /** Runs the model; `outputNames` defaults to every output in the contract. */
  async run(feeds: Record<string, ort.Tensor>, outputNames?: readonly string[]): Promise<OutputTensor[]> {
    const names = outputNames ?? this.contract.outputs.map((o) => o.name);
    let result: ort.InferenceSession.OnnxValueMapType;
    try {
      result = await this.#session.run(feeds, [...names]);
    } catch (cause) {
      throw new BatchInferError(ErrorCodes.INFERENCE, `Inference failed for model ${this.name}`, {
        cause,
        context: { model: this.name },
      });
    }
    return names.map((name) => {
      const tensor = result[name] as ort.Tensor;
      const datatype = datatypeOfOrt(tensor.type);
      if (datatype === undefined) {
        throw new BatchInferError(
          ErrorCodes.INFERENCE,
          `Output ${name} has unsupported type ${tensor.type}`,
          { context: { model: this.name } },
        );
      }
      return { name, datatype, shape: [...tensor.dims], data: tensor.data };
    });
  }

  async close(): Promise<void> {
    await this.#session.release();
  }
}
