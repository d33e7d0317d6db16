/**
 * RowRange: keeps the header record and the rows [start, end) (0-based, header excluded) of a record stream;
 * a shard of one file reads only its range of rows. Line numbers stay those of the source.
 */
import { Transform, type TransformCallback } from 'node:stream';
import type { SourceRecord } from '../types.js';

export class RowRange extends Transform {
  readonly #start: number;
  readonly #end: number;
  /** -1 until the header has passed. */
  #row = -1;

  constructor(start: number, end: number) {
    super({ objectMode: true, highWaterMark: 1024 });
    this.#start = start;
    this.#end = end;
  }

  override _transform(record: SourceRecord, _encoding: BufferEncoding, callback: TransformCallback): void {
    const row = this.#row++;
    callback(null, row === -1 || (row >= this.#start && row < this.#end) ? record : undefined);
  }
}
