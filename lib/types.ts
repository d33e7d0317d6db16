/** The records that flow between pipeline stages. */

/** One record as read from the source: its cell texts and the 1-based line it starts on. */
export interface SourceRecord {
  line: number;
  values: string[];
  /** The input file, when a run reads several. */
  file?: string;
  /** Set by a source that could read the line but not as a record; the Preprocessor rejects it with this. */
  error?: string;
}

/** A record the Preprocessor turned into model input. */
export interface PreparedRow extends SourceRecord {
  features: Float32Array;
  /** 1-based position among the input's rows (header excluded), set by the Preprocessor. */
  row?: number;
  /**
   * The input line itself, when it is exactly its values written as CSV (no quotes, no line break in a field):
   * the output then passes it through as it is instead of writing each value again (DESIGN.md).
   */
  text?: string | undefined;
}

/** A record that could not be scored, with the reason. */
export interface RejectedRow extends SourceRecord {
  error: string;
  /** 1-based position among the input's rows (header excluded), set by the Preprocessor. */
  row?: number;
}

/** Consecutive prepared rows with their features packed row-major into one tensor. */
export interface Batch {
  /** 0-based position of the batch in the run. */
  index: number;
  rows: PreparedRow[];
  /** rows.length × width float32 values. */
  tensor: Float32Array;
  width: number;
}

/** A batch with the model's class probabilities: rows × labels row-major. */
export interface ScoredBatch extends Batch {
  probabilities: Float32Array;
}
