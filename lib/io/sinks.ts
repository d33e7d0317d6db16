/**
 * Where a run's bytes go: a file (written atomically, see atomic-file.ts), stdout (`-`) or a caller's
 * Writable; and the rejects CSV writer on top of one.
 */
import type { Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { stringify, type Stringifier } from 'csv-stringify';
import { cellText } from '../core/cell-text.js';
import type { RejectedRow } from '../types.js';
import { openAtomicFile } from './atomic-file.js';

/** A sink: where the bytes go, and how to commit or discard them when the run ends. */
export interface Sink {
  stream: Writable;
  name: string;
  commit(): Promise<void>;
  discard(): Promise<void>;
}

const done = (): Promise<void> => Promise.resolve();

export function openSink(target: string | Writable): Sink {
  if (typeof target !== 'string') return { stream: target, name: '<stream>', commit: done, discard: done };
  if (target === '-') return { stream: process.stdout, name: '<stdout>', commit: done, discard: done };
  const file = openAtomicFile(target);
  return { stream: file.stream, name: target, commit: () => file.commit(), discard: () => file.discard() };
}

export interface RejectsWriter {
  write(row: RejectedRow): void;
  end(): Promise<void>;
}

/**
 * Writes rejects as they come; they are few, so the stringifier's buffer absorbs them without backpressure.
 * With several input files, a `file` column before `line` says which one a row came from. The rejects are not
 * a stage of the run's pipeline: an error of their file (it cannot be created, the disk is full) is kept and
 * thrown by `end()`, rather than crashing the process as an unheard 'error' event.
 */
export function rejectsWriter(
  sink: Sink | undefined,
  columns: () => readonly string[] | undefined,
  withFile: boolean,
): RejectsWriter {
  if (sink === undefined) return { write: () => undefined, end: done };
  const stringifier: Stringifier = stringify();
  let failure: Error | undefined;
  sink.stream.on('error', (err) => {
    failure ??= err;
    stringifier.destroy();
  });
  stringifier.pipe(sink.stream);
  let headerWritten = false;
  const header = (): void => {
    if (headerWritten) return;
    headerWritten = true;
    stringifier.write([...(columns() ?? []), ...(withFile ? ['file'] : []), 'line', 'error']);
  };
  return {
    write(row) {
      if (failure !== undefined) return;
      header();
      // A short row is padded so `line` and `error` stay under their headers; a long row keeps its extra
      // cells (nothing of the input is dropped) and the error says how many fields it had.
      const width = columns()?.length ?? 0;
      const text = row.values.map(cellText);
      const values =
        text.length < width ? [...text, ...new Array<string>(width - text.length).fill('')] : text;
      stringifier.write([...values, ...(withFile ? [row.file ?? ''] : []), String(row.line), row.error]);
    },
    async end() {
      if (failure === undefined) {
        header();
        stringifier.end();
        await finished(sink.stream).catch((err: unknown) => (failure ??= err as Error));
      }
      if (failure !== undefined) throw failure;
    },
  };
}
