/**
 * The sink of a resumable run: scored batches → `<output>.partial` and `<rejects>.partial`, with a journal
 * checkpoint (journal.ts) at most every `commitInterval` ms. Rejects wait in memory until every row before
 * them is written, so a checkpoint at row r means exactly "rows 1…r are in one file or the other"; the
 * Preprocessor runs ahead of scoring, and without the wait a crash would leave rejects of rows the resumed
 * run reads again. Rejects are therefore written in input order.
 */
import { Writable } from 'node:stream';
import { open, stat, type FileHandle } from 'node:fs/promises';
import { stringify } from 'csv-stringify/sync';
import { BatchInferError, ErrorCodes } from '../errors.js';
import type { OutputFormat } from '../core/output-format.js';
import type { RejectedRow, ScoredBatch } from '../types.js';
import type { Checkpoint, Journal } from './journal.js';
import { outputError } from './output-error.js';
import { cellText } from '../core/cell-text.js';

export interface ResumableWriterOptions {
  outputPartial: string;
  rejectsPartial: string | undefined;
  format: OutputFormat;
  /** The input's columns, once known. */
  columns: () => readonly string[] | undefined;
  /** Several inputs: a `file` column before `line` in the rejects. */
  withFile: boolean;
  journal: Journal;
  from: Checkpoint;
  commitInterval: number;
}

/** Opens a partial file: new, or cut back to what the checkpoint says it holds. */
async function openPartial(path: string, bytes: number, resuming: boolean): Promise<FileHandle> {
  try {
    return await openOrTruncate(path, bytes, resuming);
  } catch (err) {
    throw outputError(path, err);
  }
}

async function openOrTruncate(path: string, bytes: number, resuming: boolean): Promise<FileHandle> {
  if (!resuming) return open(path, 'w');
  const size = await stat(path).then(
    (s) => s.size,
    () => -1,
  );
  if (size < bytes)
    throw new BatchInferError(
      ErrorCodes.JOURNAL_MISMATCH,
      `Cannot resume: ${path} holds ${size < 0 ? 'nothing' : `${size} bytes`}, the journal says ${bytes}; delete the journal to start over`,
    );
  const handle = await open(path, 'r+');
  await handle.truncate(bytes);
  return handle;
}

export class ResumableWriter extends Writable {
  readonly #o: ResumableWriterOptions;
  #out: FileHandle | undefined;
  #rej: FileHandle | undefined;
  #pending: RejectedRow[] = [];
  #state: Checkpoint;
  #headers: boolean;
  #lastCommit = Date.now();
  /** Rows scored and rejected by this process (the checkpoint also counts the earlier runs'). */
  readonly counts = { scored: 0, rejected: 0 };

  constructor(options: ResumableWriterOptions) {
    super({ objectMode: true, highWaterMark: 1 });
    this.#o = options;
    this.#state = { ...options.from };
    this.#headers = options.from.rows > 0;
  }

  /** Holds a reject until the rows before it are written. */
  reject(row: RejectedRow): void {
    this.#pending.push(row);
  }

  override _construct(callback: (error?: Error | null) => void): void {
    const resuming = this.#o.from.rows > 0;
    const opening = async (): Promise<void> => {
      this.#out = await openPartial(this.#o.outputPartial, this.#o.from.outputBytes, resuming);
      if (this.#o.rejectsPartial !== undefined)
        this.#rej = await openPartial(this.#o.rejectsPartial, this.#o.from.rejectsBytes, resuming);
    };
    opening().then(() => callback(), callback);
  }

  override _write(
    batch: ScoredBatch,
    _encoding: BufferEncoding,
    callback: (error?: Error | null) => void,
  ): void {
    this.#batch(batch).then(() => callback(), callback);
  }

  override _final(callback: (error?: Error | null) => void): void {
    const finishing = async (): Promise<void> => {
      await this.#writeHeaders();
      await this.#flushRejects(Number.POSITIVE_INFINITY);
      await this.#sync();
      await this.#close();
    };
    finishing().then(() => callback(), callback);
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    // The partial files stay: they and the journal are what a resumed run continues from.
    this.#close().then(
      () => callback(error),
      () => callback(error),
    );
  }

  async #close(): Promise<void> {
    const handles = [this.#out, this.#rej];
    this.#out = undefined;
    this.#rej = undefined;
    for (const h of handles) await h?.close();
  }

  async #append(
    handle: FileHandle | undefined,
    records: string[][],
    key: 'outputBytes' | 'rejectsBytes',
  ): Promise<void> {
    if (records.length > 0) await this.#appendText(handle, stringify(records), key);
  }

  /** Appends CSV text or bytes (the output format writes its own, see OutputFormat.csv). */
  async #appendText(
    handle: FileHandle | undefined,
    text: string | Buffer,
    key: 'outputBytes' | 'rejectsBytes',
  ): Promise<void> {
    if (handle === undefined || text.length === 0) return;
    const bytes = typeof text === 'string' ? Buffer.from(text) : text;
    // Positioned writes: a file reopened to resume is written from where its checkpoint ends, not from 0.
    try {
      for (let done = 0; done < bytes.length;) {
        const { bytesWritten } = await handle.write(
          bytes,
          done,
          bytes.length - done,
          this.#state[key] + done,
        );
        done += bytesWritten;
      }
    } catch (err) {
      throw outputError(key === 'outputBytes' ? this.#o.outputPartial : (this.#o.rejectsPartial ?? ''), err);
    }
    this.#state[key] += bytes.length;
  }

  async #writeHeaders(): Promise<void> {
    const columns = this.#o.columns();
    if (this.#headers || columns === undefined) return;
    this.#headers = true;
    await this.#appendText(this.#out, this.#o.format.headerCsv(columns), 'outputBytes');
    await this.#append(
      this.#rej,
      [[...columns, ...(this.#o.withFile ? ['file'] : []), 'line', 'error']],
      'rejectsBytes',
    );
  }

  async #flushRejects(through: number): Promise<void> {
    const ready = this.#pending
      .filter((r) => (r.row ?? 0) <= through)
      .sort((a, b) => (a.row ?? 0) - (b.row ?? 0));
    if (ready.length === 0) return;
    this.#pending = this.#pending.filter((r) => (r.row ?? 0) > through);
    const width = this.#o.columns()?.length ?? 0;
    await this.#append(
      this.#rej,
      ready.map((r) => [
        ...r.values.map(cellText),
        ...new Array<string>(Math.max(0, width - r.values.length)).fill(''),
        ...(this.#o.withFile ? [r.file ?? ''] : []),
        String(r.line),
        r.error,
      ]),
      'rejectsBytes',
    );
    this.#state.rejected += ready.length;
    this.counts.rejected += ready.length;
  }

  async #batch(batch: ScoredBatch): Promise<void> {
    await this.#writeHeaders();
    await this.#appendText(this.#out, this.#o.format.csv(batch), 'outputBytes');
    this.#state.scored += batch.rows.length;
    this.counts.scored += batch.rows.length;
    const last = batch.rows[batch.rows.length - 1]?.row;
    if (last === undefined) return;
    await this.#flushRejects(last);
    this.#state.rows = last;
    if (Date.now() - this.#lastCommit >= this.#o.commitInterval) await this.#commit();
  }

  async #sync(): Promise<void> {
    await this.#out?.sync().catch((err: unknown) => {
      throw outputError(this.#o.outputPartial, err);
    });
    await this.#rej?.sync().catch((err: unknown) => {
      throw outputError(this.#o.rejectsPartial ?? '', err);
    });
  }

  async #commit(): Promise<void> {
    await this.#sync();
    await this.#o.journal.commit({ ...this.#state });
    this.#lastCommit = Date.now();
  }
}
