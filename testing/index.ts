/**
 * `batch-infer/testing` — test doubles for users' own tests. `startMockModelServer` answers the Open
 * Inference Protocol endpoints the pipeline uses with deterministic probabilities (a softmax of each row's
 * features), so a test of code that calls a model server needs neither a model nor onnxruntime. Faults can be
 * injected per request (an error status, `Retry-After`, a reset connection, a stall) and rows refused as bad
 * input, to exercise a client's retries and rejects. `startFaultProxy` puts the same faults, drawn at seeded
 * rates, in front of a real model server (fault-proxy.ts).
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readModelVersion, BUNDLED_MODELS_DIR } from '../lib/model-files.js';
import type { ModelContract } from '../lib/core/model-contract.js';

export {
  startFaultProxy,
  type Fault,
  type FaultCounts,
  type FaultProxy,
  type FaultProxyOptions,
  type FaultRates,
} from './fault-proxy.js';

export interface MockModelServerOptions {
  /**
   * The contract the mock serves in its model metadata.
   * @default the bundled `weather` model's contract
   */
  contract?: ModelContract;
  /**
   * Decides, per inference request (0-based count), to misbehave instead of answering.
   * @default () => undefined (never)
   * @example (i) => (i === 2 ? 503 : i === 3 ? { status: 429, retryAfter: '1' } : undefined)
   */
  fault?: (requestIndex: number) => MockFault | undefined;
  /**
   * Refuses a row as bad input: when it returns a reason for any row of a request, the mock answers 400
   * `{"error": reason}` for the whole request, as a real server does.
   * @default () => undefined (never)
   */
  refuseRow?: (features: readonly number[]) => string | undefined;
}

/**
 * A misbehaviour: an error status (optionally with `Retry-After`), a connection reset before any answer
 * (`'reset'`), or no answer at all until the client gives up (`'stall'`).
 */
export type MockFault = number | { status: number; retryAfter?: string } | 'reset' | 'stall';

export interface MockModelServer {
  url: string;
  /** Inference requests received so far. */
  readonly requests: number;
  close(): Promise<void>;
}

/** The mock's answer for one row: softmax over the first `k` features (cycled when there are fewer). */
export function mockProbabilities(features: ArrayLike<number>, k: number): number[] {
  const logits = Array.from({ length: k }, (_, j) => features[j % features.length] ?? 0);
  const max = Math.max(...logits);
  const exps = logits.map((x) => Math.exp(x - max));
  const sum = exps.reduce((a, b) => a + b, 0);
  return exps.map((e) => e / sum);
}

/** Writes a JSON answer; returns true so route handlers can `return send(…)`. */
function send(res: ServerResponse, status: number, body: unknown): true {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
  return true;
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
}

export async function startMockModelServer(options: MockModelServerOptions = {}): Promise<MockModelServer> {
  const contract = options.contract ?? (await readModelVersion(BUNDLED_MODELS_DIR, 'weather')).contract;
  const base = `/v2/models/${contract.name}`;
  let requests = 0;
  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<true> => {
    const path = (req.url ?? '/').replace(/\/versions\/1(?=\/|$)/, '');
    if (req.method === 'GET' && (path === '/v2/health/live' || path === '/v2/health/ready'))
      return send(res, 200, {});
    if (req.method === 'GET' && path === base) {
      const { name, platform, inputs, outputs, labels } = contract;
      return send(res, 200, {
        name,
        versions: ['1'],
        platform,
        inputs,
        outputs,
        properties: { labels: JSON.stringify(labels), contract: JSON.stringify(contract) },
      });
    }
    if (req.method === 'POST' && path === `${base}/infer`) {
      const fault = options.fault?.(requests);
      requests++;
      if (fault === 'reset') {
        req.socket.destroy();
        return true;
      }
      if (fault === 'stall') return true;
      if (fault !== undefined) {
        const { status, retryAfter } = typeof fault === 'number' ? { status: fault } : fault;
        if (retryAfter !== undefined) res.setHeader('retry-after', retryAfter);
        return send(res, status, { error: `mock fault ${status}` });
      }
      const body = (await readJson(req)) as { inputs?: { shape?: number[]; data?: unknown[] }[] };
      const input = body.inputs?.[0];
      const [rows = 0, width = 0] = input?.shape ?? [];
      const flat = (input?.data ?? []).flat(Infinity) as number[];
      const k = contract.labels.length;
      const data: number[] = [];
      for (let i = 0; i < rows; i++) {
        const features = flat.slice(i * width, (i + 1) * width);
        const reason = options.refuseRow?.(features);
        if (reason !== undefined) return send(res, 400, { error: reason });
        data.push(...mockProbabilities(features, k));
      }
      const output = contract.outputs[0]?.name ?? 'probabilities';
      return send(res, 200, {
        model_name: contract.name,
        model_version: '1',
        outputs: [{ name: output, datatype: 'FP32', shape: [rows, k], data }],
      });
    }
    return send(res, 404, { error: `mock: no route for ${req.method ?? ''} ${req.url ?? ''}` });
  };
  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      send(res, 400, { error: `mock: ${(err as Error).message}` });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    get requests() {
      return requests;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
