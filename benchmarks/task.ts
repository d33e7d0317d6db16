/**
 * Child-process entry for the limit figures (run by benchmarks/run.ts, one task per fresh process):
 *
 * - `passthrough`: csv-parse → csv-stringify, file → file: the ceiling of any CSV → CSV pipeline here.
 * - `onnx`: onnxruntime InferenceSession over pre-computed feature batches (features computed before the
 *   clock starts, no CSV while timed): the model's ceiling on one thread, as the `local` protocol runs it.
 *
 * Prints one JSON line: { rows, ms }.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { Transform } from 'node:stream';
import { parse } from 'csv-parse';
import { stringify } from 'csv-stringify';
import * as ort from 'onnxruntime-node';
import { BUNDLED_MODELS_DIR, computeFeatures, readModelVersion } from '../lib/index.js';

interface Task {
  task: 'passthrough' | 'onnx';
  input: string;
  output?: string;
  batchSize?: number;
}

async function passthrough(input: string, output: string): Promise<{ rows: number; ms: number }> {
  let records = 0;
  const started = performance.now();
  await pipeline(
    createReadStream(input),
    parse(),
    new Transform({
      objectMode: true,
      transform(record: string[], _encoding, done) {
        records += 1;
        done(null, record);
      },
    }),
    stringify(),
    createWriteStream(output),
  );
  return { rows: records - 1, ms: performance.now() - started };
}

async function onnx(input: string, batchSize: number): Promise<{ rows: number; ms: number }> {
  const model = await readModelVersion(BUNDLED_MODELS_DIR, 'weather');
  const specs = model.contract.features;
  const width = specs.length;
  // Features first, untimed: stream the CSV once into one growing Float32Array.
  let features = new Float32Array(width * 65_536);
  let rows = 0;
  for await (const record of createReadStream(input).pipe(parse({ columns: true })) as AsyncIterable<
    Record<string, string>
  >) {
    const result = computeFeatures(specs, record);
    if (!result.ok) continue;
    if ((rows + 1) * width > features.length) {
      const grown = new Float32Array(features.length * 2);
      grown.set(features);
      features = grown;
    }
    features.set(result.features, rows * width);
    rows += 1;
  }
  const session = await ort.InferenceSession.create(model.onnxPath, {
    intraOpNumThreads: 1,
    interOpNumThreads: 1,
    graphOptimizationLevel: 'all',
  });
  const inputName = model.contract.inputs[0]?.name ?? 'features';
  const outputName = model.contract.outputs[0]?.name ?? 'probabilities';
  // One warm-up batch so session set-up is not timed.
  await session.run({ [inputName]: new ort.Tensor('float32', features.subarray(0, width), [1, width]) }, [
    outputName,
  ]);
  const started = performance.now();
  let checksum = 0;
  for (let start = 0; start < rows; start += batchSize) {
    const n = Math.min(batchSize, rows - start);
    const tensor = new ort.Tensor('float32', features.subarray(start * width, (start + n) * width), [
      n,
      width,
    ]);
    const out = await session.run({ [inputName]: tensor }, [outputName]);
    checksum += (out[outputName]?.data as Float32Array)[0] ?? 0;
  }
  const ms = performance.now() - started;
  await session.release();
  if (!Number.isFinite(checksum)) throw new Error('model returned non-finite probabilities');
  return { rows, ms };
}

const task = JSON.parse(process.argv[2] ?? '{}') as Task;
const result =
  task.task === 'passthrough'
    ? await passthrough(task.input, task.output ?? `${task.input}.passthrough.csv`)
    : await onnx(task.input, task.batchSize ?? 256);
console.log(JSON.stringify(result));
