/**
 * Output rows for a typed sink (Parquet, a PostgreSQL table: lib/io/table.ts): the same columns as the CSV
 * output (lib/core/output-format.ts), with types instead of text. The kept input columns keep the types their
 * source gave them (a CSV's are strings); `prediction` is a string (the label, whatever the label output's
 * datatype); probabilities are float32; every other output's elements take its datatype's column type.
 */
import type { Cell, Column, ColumnType, RowBatch } from '../io/table.js';
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
  #keep: number[] | undefined;
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
    if (keep !== undefined) this.#keep = keptPositions(keep, names);
    const plan = this.#plan;
    const classifier = plan.classifier;
    this.#columns = [
      ...(this.#keep === undefined ? input : this.#keep.map((j) => input[j] as Column)),
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

  /** A scored batch as output rows; `columns` must have been called. */
  batch(batch: ScoredBatch): RowBatch {
    const columns = this.#columns as readonly Column[];
    const { classifier, plain } = this.#plan;
    const keep = this.#keep;
    const labels = classifier?.labels ?? [];
    const k = labels.length;
    const probabilities = probabilitiesOf(batch, classifier?.probabilities);
    const label = classifier?.label === undefined ? undefined : outputTensor(batch, classifier.label);
    const outputs = plain.map((p) => ({ tensor: outputTensor(batch, p.name), width: p.columns.length }));
    const rows = batch.rows.map((row, i) => {
      const cells: Cell[] = keep === undefined ? [...row.values] : keep.map((j) => row.values[j] ?? null);
      if (classifier !== undefined) {
        cells.push(
          label === undefined ? (labels[argmaxRow(probabilities, i, k)] as string) : elementText(label, i),
        );
        for (let j = 0; j < k; j++) cells.push(probabilities[i * k + j] as number);
      }
      for (const { tensor, width } of outputs)
        for (let j = 0; j < width; j++) cells.push(elementCell(tensor, i * width + j));
      return cells;
    });
    return { columns, rows };
  }
}
