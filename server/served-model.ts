/** A model version as the routes see it: its identity and contract, and the engine that runs it. */
import type { ModelContract } from '../lib/core/model-contract.js';
import type { InferenceEngine } from './inference/types.js';

export interface ServedModel {
  readonly name: string;
  readonly version: number;
  readonly contract: ModelContract;
  readonly engine: InferenceEngine;
}
