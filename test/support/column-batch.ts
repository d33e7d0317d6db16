/**
 * Rows as the ColumnBatch a run hands a columnar sink: a number column with no null in the batch becomes the
 * typed array of its type (float32 → Float32Array, float64 → Float64Array, int32 → Int32Array), as a model's
 * probabilities come; every other column an array of its cells.
 */
import type { Cell, Column, ColumnBatch } from '../../lib/io/table.js';

const TYPED = { float32: Float32Array, float64: Float64Array, int32: Int32Array } as const;

export function columnBatchOf(columns: readonly Column[], rows: readonly (readonly Cell[])[]): ColumnBatch {
  const cells = columns.map((column, c) => {
    const values = rows.map((row) => row[c] ?? null);
    const Typed = (
      TYPED as Partial<Record<string, typeof Float32Array | typeof Float64Array | typeof Int32Array>>
    )[column.type];
    return Typed !== undefined && values.every((v) => typeof v === 'number') ? Typed.from(values) : values;
  });
  return { columns, length: rows.length, cells };
}
