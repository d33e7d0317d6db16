/** The records that flow between pipeline stages. */
import type { Tensor } from './core/tensor.js';

export type { SourceRecord } from './io/table.js';
import type { SourceRecord } from './io/table.js';

/** A record that passed the Preprocessor: it will be scored. */
export interface PreparedRow extends SourceRecord {
  /** 1-based position among the input's rows (header excluded), set by the Preprocessor. */
  row?: number;
  /**
   * The input line itself, when it is exactly its values written as CSV (no quotes, no line break in a field):
   * the output then passes it through as it is instead of writing each value again (DESIGN.md).
   */
  text?: string | undefined;
}

/** A prepared row as the Preprocessor emits it: with its model inputs, one row each (lib/core/input-plan.ts). */
export interface FeaturizedRow extends PreparedRow {
  inputs: Tensor[];
}

/** A record that could not be scored, with the reason. */
export interface RejectedRow extends SourceRecord {
  error: string;
  /** 1-based position among the input's rows (header excluded), set by the Preprocessor. */
  row?: number;
}

/** Consecutive prepared rows with their model inputs: one tensor per model input, a row per prepared row. */
export interface Batch {
  /** 0-based position of the batch in the run. */
  index: number;
  rows: PreparedRow[];
  /** The model's inputs, `rows.length` rows each. */
  inputs: Tensor[];
}

/** A batch with the model's answer. */
export interface ScoredBatch extends Batch {
  /** The outputs the run asked for, `rows.length` rows each. */
  outputs: Tensor[];
  /**
   * A classifier's class probabilities, rows × labels row-major (the probability output as float32); empty for
   * a model that is not a classifier.
   */
  probabilities: Float32Array;
}
