/**
 * Output rows for a typed sink (Parquet, a PostgreSQL table: lib/io/table.ts): the same columns as the CSV
 * output (lib/core/output-format.ts), with types instead of text. The kept input columns keep the types their
 * source gave them (a CSV's are strings); `prediction` is a string (the label, whatever the label output's
 * datatype); probabilities are float32; every other output's elements take its datatype's column type.
 */
import type { Cell, Column, ColumnBatch, ColumnType, RowBatch } from '../io/table.js';
import type { ScoredBatch } from '../types.js';
import { fromHalfBits } from './fp16.js';
import { argmaxRow } from './metrics.js';
import type { Datatype } from './model-contract.js';
import { elementText, keptPositions, outputTensor, probabilitiesOf } from './output-values.js';
import type { OutputPlan } from './output-plan.js';
import type { Tensor } from './tensor.js';

/** The column type an output datatype's elements are written as. */
export function columnTypeOf(datatype: Datatype): ColumnType {
  switch (datatype) {
    case 'BYTES':
      return 'string';
    case 'BOOL':
      return 'boolean';
    case 'FP16':
    case 'FP32':
      return 'float32';
    case 'FP64':
      return 'float64';
    case 'UINT32':
    case 'INT64':
    case 'UINT64':
      return 'int64';
    default:
      return 'int32';
  }
}

/** Element `i` of a tensor as the cell of its column type. */
function elementCell(tensor: Tensor, i: number): Cell {
  const { data } = tensor;
  if (Array.isArray(data)) return data[i] as string;
  const v = data[i] as number | bigint;
  switch (tensor.datatype) {
    case 'BOOL':
      return v !== 0;
    case 'FP16':
      return fromHalfBits(v as number);
    case 'UINT32':
      return BigInt(v);
    default:
      return v;
  }
}

export class OutputRows {
  readonly #plan: OutputPlan;
  readonly #keepColumns: readonly string[] | undefined;
  /** The positions of the input columns the output keeps, in its order. */
  #kept: readonly number[] = [];
  #columns: readonly Column[] | undefined;

  constructor(plan: OutputPlan, keepColumns?: readonly string[]) {
    this.#plan = plan;
    this.#keepColumns = keepColumns;
  }

  /** The output's columns for the input's; a kept column the input lacks is BI_ERR_MISSING_COLUMN. */
  columns(input: readonly Column[]): readonly Column[] {
    if (this.#columns !== undefined) return this.#columns;
    const names = input.map((c) => c.name);
    const keep = this.#keepColumns;
    this.#kept = keep === undefined ? names.map((_, j) => j) : keptPositions(keep, names);
    const plan = this.#plan;
    const classifier = plan.classifier;
    this.#columns = [
      ...this.#kept.map((j) => input[j] as Column),
      ...(classifier === undefined
        ? []
        : [
            { name: 'prediction', type: 'string' as const, required: true },
            ...classifier.labels.map((l) => ({
              name: `probability_${l}`,
              type: 'float32' as const,
              required: true,
            })),
          ]),
      ...plan.plain.flatMap((p) =>
        p.columns.map((name) => ({ name, type: columnTypeOf(p.datatype), required: true })),
      ),
    ];
    return this.#columns;
  }

  /**
   * A scored batch as output columns, for a `columnar` sink (Parquet); `columns` must have been called. The
   * kept input columns are arrays of the rows' cells, each probability a Float32Array of its own, other
   * outputs arrays of cells.
   */
  columnBatch(batch: ScoredBatch): ColumnBatch {
    const columns = this.#columns as readonly Column[];
    const { rows } = batch;
    const n = rows.length;
    // The kept input columns in one pass over the rows: each row is visited once, not once per column.
    const kept = this.#kept;
    const width = kept.length;
    const cells: ColumnBatch['cells'][number][] = kept.map(() => new Array<Cell>(n));
    for (let i = 0; i < n; i++) {
      const { values } = rows[i] as (typeof rows)[number];
      for (let c = 0; c < width; c++) (cells[c] as Cell[])[i] = values[kept[c] as number] ?? null;
    }
    const { classifier, probabilities, label, outputs } = this.#outputsOf(batch);
    if (classifier !== undefined) {
      const k = classifier.labels.length;
      const prediction = new Array<string>(n);
      for (let i = 0; i < n; i++) prediction[i] = predictionOf(classifier.labels, probabilities, label, i);
      cells.push(prediction);
      for (let j = 0; j < k; j++) {
        const column = new Float32Array(n);
        for (let i = 0; i < n; i++) column[i] = probabilities[i * k + j] as number;
        cells.push(column);
      }
    }
    for (const { tensor, width: w } of outputs)
      for (let j = 0; j < w; j++) {
        const column = new Array<Cell>(n);
        for (let i = 0; i < n; i++) column[i] = elementCell(tensor, i * w + j);
        cells.push(column);
      }
    return { columns, length: n, cells };
  }

  /**
   * A scored batch as output rows, for any other typed sink (PostgreSQL, a sink of your own); `columns` must
   * have been called. (Binary COPY writes rows: from columns it was no faster.)
   */
  batch(batch: ScoredBatch): RowBatch {
    const columns = this.#columns as readonly Column[];
    const kept = this.#kept;
    const all = this.#keepColumns === undefined;
    const { classifier, probabilities, label, outputs } = this.#outputsOf(batch);
    const labels = classifier?.labels ?? [];
    const k = labels.length;
    const rows = batch.rows.map((row, i) => {
      const cells: Cell[] = all ? [...row.values] : kept.map((j) => row.values[j] ?? null);
      if (classifier !== undefined) {
        cells.push(predictionOf(labels, probabilities, label, i));
        for (let j = 0; j < k; j++) cells.push(probabilities[i * k + j] as number);
      }
      for (const { tensor, width } of outputs)
        for (let j = 0; j < width; j++) cells.push(elementCell(tensor, i * width + j));
      return cells;
    });
    return { columns, rows };
  }

  /** The batch's output tensors the columns are made of. */
  #outputsOf(batch: ScoredBatch) {
    const { classifier, plain } = this.#plan;
    return {
      classifier,
      probabilities: probabilitiesOf(batch, classifier?.probabilities),
      label: classifier?.label === undefined ? undefined : outputTensor(batch, classifier.label),
      outputs: plain.map((p) => ({ tensor: outputTensor(batch, p.name), width: p.columns.length })),
    };
  }
}

/** Row `i`'s prediction: the label output's element, else the label of the highest probability. */
function predictionOf(
  labels: readonly string[],
  probabilities: Float32Array,
  label: Tensor | undefined,
  i: number,
): string {
  return label === undefined
    ? (labels[argmaxRow(probabilities, i, labels.length)] as string)
    : elementText(label, i);
}
