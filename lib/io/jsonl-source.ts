/**
 * JSON Lines input: one JSON object per line (jsonlines.org), blank lines skipped, BOM and CRLF accepted.
 * The first object's keys are the columns, sent first as a header record so the stages downstream see what a
 * CSV source gives them. A later object's value for each column becomes its cell text (strings as they are,
 * null or a missing key as empty, numbers and booleans as JSON, objects as JSON text); keys the first object
 * did not have are not columns and are dropped. A line that is not a JSON object is a reject, not an error of
 * the run: it travels with the reason in `error` and the line's text as its only value; so does a line that is
 * not valid UTF-8.
 */
import { Transform, type TransformCallback } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import { BatchInferError, ErrorCodes } from '../errors.js';
import type { TextRecord } from './table.js';

function cell(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'string') return value;
  // String, not JSON.stringify, for numbers: a literal too large for a double (1e400) reads as Infinity, not null.
  return typeof value === 'number' ? String(value) : JSON.stringify(value);
}

export class JsonlParser extends Transform {
  readonly #decoder = new StringDecoder('utf8');
  #rest = '';
  #line = 0;
  #columns: string[] | undefined;

  constructor() {
    super({ readableObjectMode: true, readableHighWaterMark: 1024 });
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    const lines = (this.#rest + this.#decoder.write(chunk)).split('\n');
    this.#rest = lines.pop() ?? '';
    for (const line of lines) {
      const error = this.#record(line);
      if (error !== undefined) {
        callback(error);
        return;
      }
    }
    callback();
  }

  override _flush(callback: TransformCallback): void {
    const last = this.#rest + this.#decoder.end();
    callback(last === '' ? null : this.#record(last));
  }

  /** Pushes the line's record; returns an error only when the run cannot go on (a bad first line). */
  #record(text: string): Error | undefined {
    this.#line++;
    let line = text.endsWith('\r') ? text.slice(0, -1) : text;
    if (this.#line === 1 && line.startsWith('\uFEFF')) line = line.slice(1);
    if (line.trim() === '') return undefined;
    // The decoder turns bytes that are not UTF-8 into U+FFFD: the text would not be the input's.
    if (line.includes('\uFFFD'))
      return this.#reject(line, 'not valid UTF-8: the line holds bytes that decode as U+FFFD');
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch (err) {
      return this.#reject(line, `not JSON: ${(err as Error).message}`);
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      return this.#reject(line, 'not a JSON object');
    }
    const object = parsed as Record<string, unknown>;
    if (this.#columns === undefined) {
      this.#columns = Object.keys(object);
      this.push({ line: this.#line, values: this.#columns } satisfies TextRecord);
    }
    this.push({ line: this.#line, values: this.#columns.map((c) => cell(object[c])) } satisfies TextRecord);
    return undefined;
  }

  #reject(line: string, error: string): Error | undefined {
    // Before the first object there are no columns yet; a bad first line cannot be a row of them.
    if (this.#columns === undefined)
      return new BatchInferError(ErrorCodes.INPUT_FORMAT, `JSON Lines input, line ${this.#line}: ${error}`, {
        context: { line: this.#line },
      });
    this.push({ line: this.#line, values: [line], error } satisfies TextRecord);
    return undefined;
  }
}
