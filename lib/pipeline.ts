/**
 * `createPipeline` wires the usual run: CSV source → Preprocessor → Batcher → ModelScorer → Postprocessor →
 * CSV sink, with rejects to their own CSV, and resolves with a run summary. Outputs are committed (renamed
 * into place) only when every stage finished; any failure or abort discards them.
 */
import { createReadStream } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { finished, pipeline } from 'node:stream/promises';
import type { Readable, Writable } from 'node:stream';
import { stringify, type Stringifier } from 'csv-stringify';
import { BatchInferError, ErrorCodes } from './errors.js';
import type { ModelContract } from './core/model-contract.js';
import { createHttpScorer } from './adapters/http-scorer.js';
import { createLocalScorer } from './adapters/local-scorer.js';
import type { BatchScorer } from './adapters/types.js';
import { v2JsonCodec } from './adapters/v2-json.js';
import { createCsvParser } from './io/csv-source.js';
import { openAtomicFile, type AtomicFile } from './io/atomic-file.js';
import { readModelVersion } from './model-files.js';
import { fetchContract } from './model-source.js';
import {
  normalizePipelineOptions,
  type PipelineOptions,
  type Protocol,
  type ResolvedPipelineOptions,
} from './pipeline-options.js';
import { Batcher } from './streams/batcher.js';
import { ModelScorer } from './streams/model-scorer.js';
import { Postprocessor } from './streams/postprocessor.js';
import { Preprocessor } from './streams/preprocessor.js';
import type { RejectedRow } from './types.js';

export type { PipelineOptions } from './pipeline-options.js';

export interface RunSummary {
  status: 'succeeded';
  model: { name: string; version: number | undefined };
  protocol: Protocol;
  rows: { read: number; scored: number; rejected: number };
  timings: { started_at: string; duration_ms: number };
  throughput_rows_per_s: number;
  output: string;
  rejects: string | null;
}

interface Resolved {
  contract: ModelContract;
  version: number | undefined;
  scorer: BatchScorer;
}

async function resolveModel(o: ResolvedPipelineOptions): Promise<Resolved> {
  if (o.protocol === 'local') {
    const files = await readModelVersion(o.models, o.model, o.modelVersion);
    return { contract: files.contract, version: files.version, scorer: await createLocalScorer(files) };
  }
  const url = o.url as string;
  const { contract, version } = await fetchContract(url, o.model, o.modelVersion, o.signal);
  const codec = v2JsonCodec(contract, o.modelVersion);
  const width = contract.features.length;
  return {
    contract,
    version,
    scorer: createHttpScorer({ url, codec, width, connections: o.concurrency, timeoutMs: o.timeout }),
  };
}

function openInput(input: string | Readable): Readable {
  if (typeof input !== 'string') return input;
  return input === '-' ? process.stdin : createReadStream(input);
}

/** A sink: where the bytes go, and how to commit or discard them when the run ends. */
interface Sink {
  stream: Writable;
  name: string;
  commit(): Promise<void>;
  discard(): Promise<void>;
}

function openSink(target: string | Writable): Sink {
  if (typeof target !== 'string')
    return {
      stream: target,
      name: '<stream>',
      commit: () => Promise.resolve(),
      discard: () => Promise.resolve(),
    };
  if (target === '-')
    return {
      stream: process.stdout,
      name: '<stdout>',
      commit: () => Promise.resolve(),
      discard: () => Promise.resolve(),
    };
  const file: AtomicFile = openAtomicFile(target);
  return { stream: file.stream, name: target, commit: () => file.commit(), discard: () => file.discard() };
}

/** Writes rejects as they come; they are few, so the stringifier's buffer absorbs them without backpressure. */
function rejectsWriter(
  sink: Sink | undefined,
  columns: () => readonly string[] | undefined,
): { write(row: RejectedRow): void; end(): Promise<void> } {
  if (sink === undefined) return { write: () => undefined, end: () => Promise.resolve() };
  const stringifier: Stringifier = stringify();
  stringifier.pipe(sink.stream);
  let headerWritten = false;
  const header = (): void => {
    if (headerWritten) return;
    headerWritten = true;
    stringifier.write([...(columns() ?? []), 'line', 'error']);
  };
  return {
    write(row) {
      header();
      // A short row is padded so `line` and `error` stay under their headers; a long row keeps its extra
      // cells (nothing of the input is dropped) and the error says how many fields it had.
      const width = columns()?.length ?? 0;
      const values =
        row.values.length < width
          ? [...row.values, ...new Array<string>(width - row.values.length).fill('')]
          : row.values;
      stringifier.write([...values, String(row.line), row.error]);
    },
    async end() {
      header();
      stringifier.end();
      await finished(sink.stream);
    },
  };
}

export async function createPipeline(options: PipelineOptions): Promise<RunSummary> {
  const o = normalizePipelineOptions(options);
  const startedAt = new Date();
  const started = performance.now();
  const { contract, version, scorer } = await resolveModel(o);
  const output = openSink(o.output);
  const rejectsSink = o.rejects === undefined ? undefined : openSink(o.rejects);
  const signal = o.signal;
  const preprocessor = new Preprocessor({
    features: contract.features,
    onReject: (row) => rejects.write(row),
  });
  const rejects = rejectsWriter(rejectsSink, () => preprocessor.columns);
  const modelScorer = new ModelScorer({ scorer, concurrency: o.concurrency });
  try {
    const parser = createCsvParser();
    await pipeline(
      openInput(o.input),
      parser,
      preprocessor,
      new Batcher({ batchSize: o.batchSize }),
      modelScorer,
      new Postprocessor({ labels: contract.labels, inputColumns: () => preprocessor.columns }),
      stringify(),
      output.stream,
      signal ? { signal } : {},
    ).catch((err: unknown) => {
      const csv = err as { code?: unknown; message?: string };
      if (typeof csv.code === 'string' && csv.code.startsWith('CSV_')) {
        throw new BatchInferError(ErrorCodes.CSV_PARSE, `Input is not valid CSV: ${csv.message ?? ''}`, {
          cause: err,
        });
      }
      throw err;
    });
    await rejects.end();
    const { read, rejected } = preprocessor.counts;
    if (read > 0 && rejected / read > o.maxRejectRatio) {
      await rejectsSink?.commit();
      throw new BatchInferError(
        ErrorCodes.TOO_MANY_REJECTS,
        `${rejected} of ${read} rows rejected (${((100 * rejected) / read).toFixed(2)} %), more than maxRejectRatio ${o.maxRejectRatio}`,
      );
    }
    await output.commit();
    await rejectsSink?.commit();
  } catch (err) {
    await output.discard();
    await rejectsSink?.discard();
    throw err;
  } finally {
    await scorer.close();
  }
  const durationMs = performance.now() - started;
  return {
    status: 'succeeded',
    model: { name: contract.name, version },
    protocol: o.protocol,
    rows: {
      read: preprocessor.counts.read,
      scored: modelScorer.counts.rows,
      rejected: preprocessor.counts.rejected,
    },
    timings: { started_at: startedAt.toISOString(), duration_ms: Math.round(durationMs) },
    throughput_rows_per_s: Math.round(preprocessor.counts.read / (durationMs / 1000)),
    output: output.name,
    rejects: rejectsSink?.name ?? null,
  };
}
