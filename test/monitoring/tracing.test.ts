// W3C trace context end to end over real HTTP: the real HTTP scorer sends `traceparent` (the trace it was
// given, a new span per attempt) to a real model server on port 0, whose log lines carry the same trace id,
// the attempt's span as their parent and a span of their own; a refused attempt is retried under a new span;
// the server starts its own trace when a request brings none (or an invalid one) and names its span in
// `traceresponse`.
import t from 'tap';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pino } from 'pino';
import {
  BUNDLED_MODELS_DIR,
  createHttpScorer,
  ErrorCodes,
  readModelVersion,
  v2JsonCodec,
} from '../../lib/index.js';
import type { AttemptEvent, RetryEvent } from '../../lib/adapters/http-scorer.js';
import { isSpanId, isTraceId, newTraceId } from '../../lib/core/trace-context.js';
import type { Tensor } from '../../lib/core/tensor.js';
import { createModelServer, type ModelServer } from '../../server/index.js';
import { listen, type Listening } from '../../bin/cli/listen.js';
import { startFaultProxy } from '../../testing/index.js';
import { runCli } from '../cli/spawn-cli.js';
import { tempDir, WEATHER_CSV } from '../helpers.js';

const { contract } = await readModelVersion(BUNDLED_MODELS_DIR, 'weather');
const WIDTH = contract.features.length;
/** `rows` rows of weather's input (zero features). */
const features = (rows: number): Tensor[] => [
  { name: 'features', datatype: 'FP32', shape: [rows, WIDTH], data: new Float32Array(rows * WIDTH) },
];

interface LogLine {
  level: number;
  msg: string;
  path?: string;
  status?: number;
  request_id?: string;
  trace_id?: string;
  span_id?: string;
  parent_span_id?: string;
}

/** A real server on 127.0.0.1:0 whose debug log is kept as parsed lines. */
async function tracedServer(): Promise<{
  url: string;
  lines: LogLine[];
  modelServer: ModelServer;
  listening: Listening;
}> {
  const lines: LogLine[] = [];
  const logger = pino(
    { level: 'debug' },
    { write: (line: string) => lines.push(JSON.parse(line) as LogLine) },
  );
  const modelServer = createModelServer({ logger });
  const listening = await listen(modelServer, 0, '127.0.0.1');
  await modelServer.loaded;
  return { url: listening.url, lines, modelServer, listening };
}

const inferLines = (lines: LogLine[], traceId: string): LogLine[] =>
  lines.filter((l) => l.msg === 'request' && l.path?.endsWith('/infer') === true && l.trace_id === traceId);

t.test('the server logs the trace the scorer sent, under the span of its attempt', async (t) => {
  const { url, lines, listening } = await tracedServer();
  t.teardown(() => listening.close());
  const traceId = newTraceId();
  const attempts: AttemptEvent[] = [];
  const scorer = createHttpScorer({
    url,
    codec: v2JsonCodec(contract, undefined, ['probabilities']),
    traceId,
    onAttempt: (e) => attempts.push(e),
  });
  t.teardown(() => scorer.close());
  await scorer.score(features(3));
  await scorer.score(features(2));

  t.equal(attempts.length, 2);
  t.ok(
    attempts.every((a) => a.traceId === traceId && isSpanId(a.spanId)),
    'each attempt is a span of the trace',
  );
  t.not(attempts[0]?.spanId, attempts[1]?.spanId, 'one span per request');
  const logged = inferLines(lines, traceId);
  t.same(
    logged.map((l) => l.parent_span_id),
    attempts.map((a) => a.spanId),
    "each server line's parent is the attempt's span",
  );
  for (const line of logged) {
    t.equal(line.status, 200);
    t.ok(line.request_id, 'next to the request id');
    t.ok(isSpanId(line.span_id ?? '') && line.span_id !== line.parent_span_id, 'the server has its own span');
  }
});

t.test('a refused attempt is retried under a new span; both sides name every span', async (t) => {
  const { url, lines, modelServer, listening } = await tracedServer();
  t.teardown(async () => {
    listening.server.closeAllConnections();
    await new Promise((resolve) => listening.server.close(resolve));
  });
  // A server that began shutting down still listens, and answers 503 (Retry-After: 1) to new work.
  await modelServer.close({ graceMs: 0 });
  const traceId = newTraceId();
  const attempts: AttemptEvent[] = [];
  const retries: RetryEvent[] = [];
  const scorer = createHttpScorer({
    url,
    codec: v2JsonCodec(contract, undefined, ['probabilities']),
    traceId,
    retries: 1,
    onAttempt: (e) => attempts.push(e),
    onRetry: (e) => retries.push(e),
  });
  t.teardown(() => scorer.close());
  const failure = await scorer.score(features(1)).then(
    () => undefined,
    (err: unknown) => err,
  );
  const [first = '', last = ''] = attempts.map((a) => a.spanId);
  t.match(failure, {
    code: ErrorCodes.HTTP_STATUS,
    message: `answered 503: Server is shutting down (after 2 attempts) [trace_id=${traceId} span_id=${last}]`,
  });
  t.ok(attempts.length === 2 && first !== last, 'two attempts, two spans');
  t.same(
    retries.map((r) => [r.attempt, r.traceId, r.spanId]),
    [[1, traceId, first]],
    'the retry names the failed attempt',
  );
  const refused = inferLines(lines, traceId);
  t.same(
    refused.map((l) => [l.level, l.status, l.parent_span_id]),
    [
      [40, 503, first],
      [40, 503, last],
    ],
    'the server warns of each refusal, with the span of the attempt it refused',
  );
});

t.test('without a valid traceparent the server starts a trace and names it in traceresponse', async (t) => {
  const { url, lines, listening } = await tracedServer();
  t.teardown(() => listening.close());
  const TRACERESPONSE = /^00-([0-9a-f]{32})-([0-9a-f]{16})-01$/;
  const given = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
  const cases = {
    none: undefined,
    invalid: given.toUpperCase(),
    valid: given,
  };
  for (const [what, traceparent] of Object.entries(cases)) {
    const res = await fetch(`${url}/v2/models/weather`, {
      headers: { 'x-request-id': `trace-${what}`, ...(traceparent === undefined ? {} : { traceparent }) },
    });
    await res.arrayBuffer();
    t.equal(res.headers.get('traceparent'), null, `${what}: traceparent is a request header, not echoed`);
    const [, traceId = '', spanId = ''] = TRACERESPONSE.exec(res.headers.get('traceresponse') ?? '') ?? [];
    t.ok(isTraceId(traceId), `${what}: traceresponse carries a trace id`);
    const line = lines.find((l) => l.request_id === `trace-${what}` && l.msg === 'request');
    t.same(
      [line?.trace_id, line?.span_id],
      [traceId, spanId],
      `${what}: the log line names the same trace and span`,
    );
    if (what === 'valid') {
      t.equal(traceId, '4bf92f3577b34da6a3ce929d0e0e4736', 'the caller’s trace is continued');
      t.equal(line?.parent_span_id, '00f067aa0ba902b7');
    } else {
      t.not(traceId, '4bf92f3577b34da6a3ce929d0e0e4736');
      t.equal(line?.parent_span_id, undefined, `${what}: a new trace has no parent`);
    }
  }
});

t.test(
  'a CLI run joins the TRACEPARENT trace: its logs, summary, history and the server agree',
  async (t) => {
    const { url, lines, listening } = await tracedServer();
    t.teardown(() => listening.close());
    // Seeded 5xx on a fifth of the infer requests: retries happen (6 allowed per batch), each logged with its span.
    const proxy = await startFaultProxy({ target: url, rates: { serverError: 0.2 }, seed: 7 });
    t.teardown(() => proxy.close());
    const dir = await tempDir(t);
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const output = join(dir, 'scored.csv');
    const history = join(dir, 'runs.jsonl');
    const run = await runCli(
      [
        'run',
        '-i',
        WEATHER_CSV,
        '-o',
        output,
        '--url',
        proxy.url,
        '--batch-size',
        '100',
        '--retries',
        '6',
        '--history',
        history,
      ],
      { env: { TRACEPARENT: `00-${traceId}-00f067aa0ba902b7-01` } },
    );
    t.equal(run.code, 0, run.stderr);
    const logged = run.stderr
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as LogLine & { attempt?: number; delay_ms?: number });
    t.same(
      logged.filter((l) => l.msg === 'run started').map((l) => l.trace_id),
      [traceId],
      'the run logs the trace it joined when it starts',
    );
    const retried = logged.filter((l) => l.msg.startsWith('retrying in '));
    t.equal(retried.length, proxy.counts.serverError, 'one warning per refused attempt');
    t.ok(
      retried.every((l) => l.level === 40 && l.trace_id === traceId && isSpanId(l.span_id ?? '')),
      'each names the trace and the failed attempt’s span',
    );
    t.match(retried[0]?.msg, /^retrying in \d+ ms: .*answered 50\d/);
    const summary = JSON.parse(await readFile(join(dir, 'scored.summary.json'), 'utf8')) as {
      trace_id: string;
      rows: { scored: number };
      requests: { retries: number; count: number };
    };
    t.equal(summary.trace_id, traceId);
    t.equal(summary.requests.retries, retried.length, 'the summary counts the retries');

    const [record] = (await readFile(history, 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { trace_id?: string });
    t.equal(record?.trace_id, traceId, 'the history record keeps the trace id');
    const served = lines.filter((l) => l.msg === 'request' && l.path?.endsWith('/infer') === true);
    t.equal(served.length, Math.ceil(summary.rows.scored / 100), 'the server answered each batch once');
    t.equal(summary.requests.count, served.length + retried.length, 'the summary counts every attempt');
    t.ok(
      served.every((l) => l.trace_id === traceId),
      'and logged each under the caller’s trace',
    );
  },
);
