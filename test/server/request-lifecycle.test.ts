/**
 * The request lifecycle's per-request parts (issue #7): made request ids are a per-process prefix and a counter
 * in a UUID's layout, and the request's child logger is made only when a line is written for the request, with
 * the same fields an eagerly made child writes. Logs are captured as parsed lines; no timing is asserted.
 */
import t from 'tap';
import { pino, type Bindings, type ChildLoggerOptions, type Logger } from 'pino';
import { lazyChildLogger, newRequestId } from '../../server/http/lifecycle.js';
import { startServer } from '../helpers.js';

const UUID_LAYOUT = /^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/** A logger whose lines are kept parsed (without `time`), and how many children it made. */
function capture(level: string): {
  logger: Logger;
  lines: Record<string, unknown>[];
  children: () => number;
} {
  const lines: Record<string, unknown>[] = [];
  const logger = pino(
    { level, timestamp: false, base: null },
    { write: (line: string) => lines.push(JSON.parse(line) as Record<string, unknown>) },
  );
  let children = 0;
  // On the server's logger only, so that `this` is whichever logger (a child inherits the property) is asked.
  type Child = (this: Logger, bindings: Bindings, options?: ChildLoggerOptions) => Logger;
  const child = Reflect.get(logger, 'child') as unknown as Child;
  const counted: Child = function (bindings, options) {
    children++;
    return child.call(this, bindings, options);
  };
  logger.child = counted as unknown as Logger['child'];
  return { logger, lines, children: () => children };
}

const INFER = JSON.stringify({
  inputs: [{ name: 'features', shape: [1, 6], datatype: 'FP32', data: [0.5, -0.2, 0.1, 0.3, 0.7, -0.7] }],
});

t.test('made request ids: UUID layout, one prefix per process, a counter after it', async (t) => {
  const ids = Array.from({ length: 10_000 }, () => newRequestId());
  t.ok(
    ids.every((id) => UUID_LAYOUT.test(id)),
    '36 characters, version 8, RFC variant',
  );
  t.equal(new Set(ids).size, ids.length, 'unique');
  t.equal(new Set(ids.map((id) => id.slice(0, 24))).size, 1, 'one prefix');
  const counts = ids.map((id) => Number.parseInt(id.slice(24), 16));
  t.ok(
    counts.every((n, i) => i === 0 || n === (counts[i - 1] ?? 0) + 1),
    'consecutive',
  );
});

t.test('a lazy child logger writes the lines an eager child writes', async (t) => {
  const bindings = { request_id: 'r-1', trace_id: 'a'.repeat(32), span_id: 'b'.repeat(16) };
  const eager = capture('debug');
  const lazy = capture('debug');
  for (const [log, logger] of [
    [eager.logger.child(bindings), eager.logger],
    [lazyChildLogger(lazy.logger, () => bindings), lazy.logger],
  ] as const) {
    t.equal(log.level, 'debug');
    t.equal(log.isLevelEnabled('trace'), false);
    log.trace('not written');
    log.debug({ status: 200 }, 'request');
    log.warn({ status: 503 }, 'request');
    log.child({ part: 'x' }).info('nested');
    t.same(log.bindings(), bindings);
    t.not(log, logger);
  }
  t.same(lazy.lines, eager.lines, 'same lines, same fields');
  t.equal(lazy.lines.length, 3);
  t.match(lazy.lines[0], { level: 20, msg: 'request', status: 200, ...bindings });
  t.match(lazy.lines[2], { msg: 'nested', part: 'x', ...bindings });
});

t.test('a lazy child logger is made on the first line written, not before, and once', async (t) => {
  const { logger, lines, children } = capture('info');
  let asked = 0;
  const log = lazyChildLogger(logger, () => {
    asked++;
    return { request_id: 'r-2' };
  });
  log.debug({ status: 200 }, 'request');
  log.trace('nor this');
  t.equal(children(), 0, 'disabled levels make no child');
  t.equal(asked, 0, 'nor the bindings');
  t.equal(lines.length, 0);
  log.info('one');
  log.error('two');
  t.equal(children(), 1, 'one child');
  t.equal(asked, 1);
  t.same(
    lines.map((l) => [l.msg, l.request_id]),
    [
      ['one', 'r-2'],
      ['two', 'r-2'],
    ],
  );
  log.level = 'debug';
  t.equal(logger.level, 'info', "setting the level sets the child's, not the server logger's");
  log.debug('three');
  t.equal(lines.at(-1)?.msg, 'three');
});

t.test('through the server: ids made or honoured, no child logger unless a line is written', async (t) => {
  const quiet = capture('info');
  const url = await startServer(t, { logger: quiet.logger, workers: 1 });
  const infer = (headers: Record<string, string> = {}) =>
    fetch(`${url}/v2/models/weather/infer`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: INFER,
    });
  const made = await Promise.all([infer(), infer(), infer()]);
  const ids = made.map((res) => res.headers.get('x-request-id') ?? '');
  t.ok(
    made.every((res) => res.status === 200),
    'answered',
  );
  t.ok(
    ids.every((id) => UUID_LAYOUT.test(id)),
    'made ids in a UUID layout',
  );
  t.equal(new Set(ids).size, 3, 'one per request');
  t.equal((await infer({ 'x-request-id': 'client-7' })).headers.get('x-request-id'), 'client-7', 'honoured');
  const bad = await fetch(`${url}/v2/models/weather/infer`, { method: 'POST', body: '{bad' });
  t.equal(bad.status, 400);
  t.equal(quiet.children(), 0, 'at info level, successes and 4xx write nothing and make no child');

  const loud = capture('debug');
  const debugUrl = await startServer(t, { logger: loud.logger, workers: 1 });
  const parent = `00-${'1'.repeat(32)}-${'2'.repeat(16)}-01`;
  const res = await fetch(`${debugUrl}/v2/models/weather/infer`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', traceparent: parent },
    body: INFER,
  });
  t.equal(res.status, 200);
  const [, traceId, spanId] = (res.headers.get('traceresponse') ?? '').split('-');
  const line = loud.lines.find((l) => l.msg === 'request' && l.path === '/v2/models/weather/infer');
  t.same(
    line,
    {
      level: 20,
      request_id: res.headers.get('x-request-id'),
      trace_id: traceId,
      span_id: spanId,
      parent_span_id: '2'.repeat(16),
      method: 'POST',
      path: '/v2/models/weather/infer',
      status: 200,
      msg: 'request',
    },
    'the access line carries the request id and the span the answer names',
  );
});
