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
   * A scored batch as output columns; `columns` must have been called. The kept input columns are arrays of
   * the rows' cells, each probability a Float32Array of its own, other outputs arrays of cells.
   */
  columnBatch(batch: ScoredBatch): ColumnBatch {
    const columns = this.#columns as readonly Column[];
    const { classifier, plain } = this.#plan;
    const { rows } = batch;
    const n = rows.length;
    const cells: ColumnBatch['cells'][number][] = [];
    for (const j of this.#kept) cells.push(rows.map((row) => row.values[j] ?? null));
    if (classifier !== undefined) {
      const labels = classifier.labels;
      const k = labels.length;
      const probabilities = probabilitiesOf(batch, classifier.probabilities);
      const label = classifier.label === undefined ? undefined : outputTensor(batch, classifier.label);
      const prediction = new Array<string>(n);
      for (let i = 0; i < n; i++)
        prediction[i] =
          label === undefined ? (labels[argmaxRow(probabilities, i, k)] as string) : elementText(label, i);
      cells.push(prediction);
      for (let j = 0; j < k; j++) {
        const column = new Float32Array(n);
        for (let i = 0; i < n; i++) column[i] = probabilities[i * k + j] as number;
        cells.push(column);
      }
    }
    for (const p of plain) {
      const tensor = outputTensor(batch, p.name);
      const width = p.columns.length;
      for (let j = 0; j < width; j++) {
        const column = new Array<Cell>(n);
        for (let i = 0; i < n; i++) column[i] = elementCell(tensor, i * width + j);
        cells.push(column);
      }
    }
    return { columns, length: n, cells };
  }

  /** A scored batch as output rows (the column batch's, row by row); `columns` must have been called. */
  batch(batch: ScoredBatch): RowBatch {
    const { columns, length, cells } = this.columnBatch(batch);
    const rows = new Array<Cell[]>(length);
    for (let i = 0; i < length; i++) rows[i] = cells.map((column) => column[i] as Cell);
    return { columns, rows };
  }
}
