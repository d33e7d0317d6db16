/**
 * The online figure's ceiling: the least a Koa server can do per single-row V2 JSON infer request — parse the
 * body, run onnxruntime on the main thread, answer JSON — with none of the model server's validation, worker
 * pool, batching, metrics, logs or deadlines. The yardstick ("a bare Koa handler running onnxruntime on
 * the main thread"); measured beside the real server in the same run, it is what the real server's req/s are
 * compared with. Started by benchmarks/figures/online.ts as a child process; logs its URL like `serve` does.
 *
 *   npx tsx benchmarks/bare-server.ts [port]
 */
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import Koa from 'koa';
import * as ort from 'onnxruntime-node';
import { BUNDLED_MODELS_DIR, readModelVersion } from '../lib/index.js';

const model = await readModelVersion(BUNDLED_MODELS_DIR, 'weather');
const session = await ort.InferenceSession.create(model.onnxPath, {
  intraOpNumThreads: 1,
  interOpNumThreads: 1,
  graphOptimizationLevel: 'all',
});
const output = model.contract.outputs[0]?.name ?? 'probabilities';

interface Request {
  inputs: { name: string; shape: number[]; data: number[] }[];
}

const app = new Koa();
app.use(async (ctx) => {
  const chunks: Buffer[] = [];
  for await (const chunk of ctx.req) chunks.push(chunk as Buffer);
  const [input] = (JSON.parse(Buffer.concat(chunks).toString('utf8')) as Request).inputs;
  if (input === undefined) {
    ctx.status = 400;
    return;
  }
  const feeds = { [input.name]: new ort.Tensor('float32', Float32Array.from(input.data), input.shape) };
  const result = (await session.run(feeds, [output]))[output] as ort.Tensor;
  ctx.body = {
    model_name: model.name,
    model_version: String(model.version),
    outputs: [
      { name: output, datatype: 'FP32', shape: result.dims, data: Array.from(result.data as Float32Array) },
    ],
  };
});

const handle = app.callback();
// Koa settles its own promise (errors become responses).
const server = createServer((req, res) => void handle(req, res)).listen(
  Number(process.argv[2] ?? 0),
  '127.0.0.1',
);
await once(server, 'listening');
console.error(
  `bare Koa + onnxruntime listening on http://127.0.0.1:${(server.address() as AddressInfo).port}`,
);
process.once('SIGTERM', () => server.close());
