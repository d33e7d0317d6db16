/**
 * What the server fuzz tests share (issue #10 point 4): a real server on port 0, raw HTTP exchanges (node:http,
 * which sends a path exactly as written — fetch would resolve `..` and `%2e%2e` itself), the check every
 * answer must pass, and the checks after a run: the process saw no unhandled rejection or uncaught exception,
 * the server recorded no 5xx, it still answers, and its memory is back where it was after a warm-up.
 *
 * Runs are seeded and bounded; `FUZZ_SEED` picks another seed and `FUZZ_SCALE` multiplies the run counts
 * (e.g. `FUZZ_SCALE=20` for a long local session).
 */
import { Agent, request, type IncomingHttpHeaders } from 'node:http';
import { homedir, tmpdir } from 'node:os';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { Test } from 'tap';
import fc from 'fast-check';
import type { ModelServerOptions } from '../../server/index.js';
import { PACKAGE_ROOT } from '../../lib/package-root.js';
import { BUNDLED_MODELS_DIR } from '../../lib/model-files.js';
import { startServer } from '../helpers.js';
import { metric } from './v2-client.js';

/** Seed and run counts of every fuzz property. */
export const FUZZ_SEED = Number(process.env.FUZZ_SEED ?? 20_261);
export const runs = (n: number): number => Math.max(1, Math.round(n * Number(process.env.FUZZ_SCALE ?? 1)));

/**
 * Any JSON value whose numbers are moderate (|x| ≤ 10⁶). A model may overflow into NaN on a huge input that is
 * valid for its datatype, so generators keep numbers moderate, or beyond every datatype, never in between:
 * then a NaN in an answer always means a bug.
 */
export const moderateJson = (maxDepth: number): fc.Arbitrary<unknown> =>
  fc.letrec<{ value: unknown }>((tie) => ({
    value: fc.oneof(
      { depthSize: 'small', maxDepth },
      fc.string({ maxLength: 8 }),
      fc.boolean(),
      fc.constant(null),
      fc.integer({ min: -1e6, max: 1e6 }),
      fc.double({ min: -1e6, max: 1e6, noNaN: true }),
      fc.array(tie('value'), { maxLength: 5 }),
      fc.dictionary(fc.string({ maxLength: 6 }), tie('value'), { maxKeys: 5 }),
    ),
  })).value;

/** Numbers no datatype of ours holds: beyond float32, or JSON's way of writing Infinity. */
export const unrepresentable = fc.oneof(
  fc.double({ min: 3.5e38, noDefaultInfinity: true, noNaN: true }),
  fc.double({ max: -3.5e38, noDefaultInfinity: true, noNaN: true }),
  fc.constantFrom(1e39, -1e39, 2 ** 128, 1e308),
);

export interface Exchange {
  method?: string;
  path: string;
  headers?: Record<string, string>;
  body?: string | Uint8Array;
}

export interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
}

/** Signs of a server's insides in a response: stack frames, Node internals, JS engine messages, host paths. */
const LEAKS: RegExp[] = [
  /^\s*at /m,
  /(?:file:\/\/|\/)[^\s"()]+\.[cm]?[jt]s:\d+/,
  /node:internal|node_modules/,
  /Cannot read propert|is not a function|is not defined|Maximum call stack|\w+Error: /,
];
const HOST_PATHS = [PACKAGE_ROOT, BUNDLED_MODELS_DIR, tmpdir(), homedir()].filter((p) => p.length > 1);

/** What in `text` gives the server's insides away, or undefined. */
export function leakIn(text: string, extraPaths: readonly string[] = []): string | undefined {
  const pattern = LEAKS.find((re) => re.test(text));
  if (pattern !== undefined) return `matches ${String(pattern)}`;
  const path = [...HOST_PATHS, ...extraPaths].find((p) => text.includes(p));
  return path === undefined ? undefined : `names the host path ${path}`;
}

/**
 * Why `answer` is not a proper refusal: a 4xx whose body is exactly `{"error": "<non-empty text>"}`, as JSON,
 * giving nothing of the server away. With `allowSuccess`, a 2xx passes too (a generated request can be valid).
 */
export function problemWith(answer: Answer, allowSuccess = false, extraPaths: readonly string[] = []) {
  const { status, text } = answer;
  const shown = `status ${status}, body ${text.slice(0, 400)}`;
  const leak = leakIn(text, extraPaths);
  if (leak !== undefined) return `the answer ${leak}: ${shown}`;
  if (allowSuccess && status >= 200 && status < 300) return undefined;
  if (status < 400 || status > 499) return `expected a 4xx: ${shown}`;
  if (!String(answer.headers['content-type']).startsWith('application/json'))
    return `content-type ${answer.headers['content-type']}: ${shown}`;
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return `the body is not JSON: ${shown}`;
  }
  const keys = typeof body === 'object' && body !== null ? Object.keys(body) : [];
  const error = (body as { error?: unknown }).error;
  if (keys.join() !== 'error' || typeof error !== 'string' || error === '')
    return `the body is not {"error": "..."}: ${shown}`;
  return undefined;
}

/** One HTTP exchange on a kept-alive connection; the path goes out unchanged. */
export function send(url: string, agent: Agent, exchange: Exchange): Promise<Answer> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: hostname,
        port,
        agent,
        method: exchange.method ?? 'GET',
        path: exchange.path,
        headers: exchange.headers,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            text: Buffer.concat(chunks).toString(),
          }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(exchange.body);
  });
}

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/** Resident set size and heap in use after the event loop settles and the heap is collected. */
async function settledMemory(): Promise<{ rss: number; heap: number }> {
  for (let i = 0; i < 3; i++) {
    await new Promise((r) => setImmediate(r));
    gc();
  }
  const { rss, heapUsed } = process.memoryUsage();
  return { rss, heap: heapUsed };
}

export interface FuzzServer {
  url: string;
  /** Sends one exchange and throws (a fast-check failure) unless the answer passes `problemWith`. */
  expect(exchange: Exchange, allowSuccess?: boolean): Promise<Answer>;
  send(exchange: Exchange): Promise<Answer>;
  /** Counts answers obtained some other way (raw sockets) in the status summary. */
  tally(answers: readonly Answer[]): void;
  /** Takes the memory baseline: call it after a warm-up run of the same properties. */
  baseline(): Promise<void>;
  /**
   * The after-checks: no unhandled rejection, no 5xx recorded, still live, and, when `baseline()` was called,
   * memory back near the baseline.
   */
  finish(): Promise<void>;
}

/** RSS may grow this much over a run (allocator noise), relative to the baseline. */
const RSS_TOLERANCE = 0.1;
/**
 * The heap after a collection may grow this much (compiled code, metric series); it measured under 1 MiB, and
 * keeping a few KiB of every request would exceed it.
 */
const HEAP_TOLERANCE = 5 * 2 ** 20;

export async function fuzzServer(
  t: Test,
  options: ModelServerOptions = {},
  extraPaths: readonly string[] = [],
): Promise<FuzzServer> {
  const incidents: string[] = [];
  const onRejection = (reason: unknown) => incidents.push(`unhandled rejection: ${String(reason)}`);
  const onException = (err: Error) => incidents.push(`uncaught exception: ${err.stack ?? String(err)}`);
  process.on('unhandledRejection', onRejection);
  process.on('uncaughtException', onException);
  t.teardown(() => {
    process.off('unhandledRejection', onRejection);
    process.off('uncaughtException', onException);
  });
  const url = await startServer(t, { workers: 1, ...options });
  const agent = new Agent({ keepAlive: true, maxSockets: 4 });
  t.teardown(() => agent.destroy());
  let before: { rss: number; heap: number } | undefined;
  const statuses = new Map<number, number>();
  const tally = (answers: readonly Answer[]) => {
    for (const { status } of answers) statuses.set(status, (statuses.get(status) ?? 0) + 1);
  };
  return {
    url,
    send: (exchange) => send(url, agent, exchange),
    tally,
    async expect(exchange, allowSuccess = false) {
      const answer = await send(url, agent, exchange);
      tally([answer]);
      const problem = problemWith(answer, allowSuccess, extraPaths);
      if (problem !== undefined) throw new Error(`${exchange.method ?? 'GET'} ${exchange.path}: ${problem}`);
      return answer;
    },
    async baseline() {
      before = await settledMemory();
    },
    async finish() {
      const counts = [...statuses].sort(([a], [b]) => a - b).map(([status, n]) => `${status}: ${n}`);
      t.comment(`answers by status: ${counts.join(', ')}`);
      t.same(incidents, [], 'no unhandled rejection or uncaught exception');
      const text = (await send(url, agent, { path: '/metrics' })).text;
      const serverErrors = text
        .split('\n')
        .filter((l) => /^http_server_request_duration_seconds_count\{.*status_code="5\d\d"/.test(l));
      t.same(serverErrors, [], 'the server answered no request with a 5xx');
      t.ok(metric(text, 'http_server_request_duration_seconds_count') > 0, 'requests were recorded');
      t.equal((await send(url, agent, { path: '/v2/health/live' })).status, 200, 'still live');
      if (before === undefined) return;
      const after = await settledMemory();
      const mib = (n: number) => `${(n / 2 ** 20).toFixed(1)} MiB`;
      const growth = (after.rss - before.rss) / before.rss;
      t.comment(
        `after warm-up → after the run: RSS ${mib(before.rss)} → ${mib(after.rss)} (${(growth * 100).toFixed(1)} %), heap ${mib(before.heap)} → ${mib(after.heap)}`,
      );
      t.ok(growth < RSS_TOLERANCE, `RSS grew less than ${RSS_TOLERANCE * 100} % over the run`);
      t.ok(after.heap - before.heap < HEAP_TOLERANCE, `the heap grew less than ${mib(HEAP_TOLERANCE)}`);
    },
  };
}
