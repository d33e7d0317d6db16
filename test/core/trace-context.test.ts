import t from 'tap';
import fc from 'fast-check';
import { ErrorCodes } from '../../lib/errors.js';
import {
  childSpan,
  formatTraceparent,
  isSpanId,
  isTraceId,
  newSpanId,
  newTraceId,
  parseTraceparent,
  SAMPLED,
  serverSpan,
  traceFields,
  traceIdOption,
} from '../../lib/core/trace-context.js';

// The examples of the W3C Trace Context recommendation.
const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const PARENT_ID = '00f067aa0ba902b7';
const EXAMPLE = `00-${TRACE_ID}-${PARENT_ID}-01`;

t.test('the spec example parses and formats back', async (t) => {
  t.same(parseTraceparent(EXAMPLE), { traceId: TRACE_ID, parentId: PARENT_ID, flags: SAMPLED });
  t.equal(formatTraceparent({ traceId: TRACE_ID, parentId: PARENT_ID, flags: 1 }), EXAMPLE);
  t.same(parseTraceparent(`00-${TRACE_ID}-${PARENT_ID}-00`)?.flags, 0, 'not sampled');
  t.equal(formatTraceparent({ traceId: TRACE_ID, parentId: PARENT_ID, flags: 0 }).slice(-3), '-00');
});

t.test('invalid headers are ignored, as the spec asks', async (t) => {
  const invalid: Record<string, string | undefined> = {
    absent: undefined,
    empty: '',
    'uppercase hex': EXAMPLE.toUpperCase(),
    'uppercase trace id': `00-${TRACE_ID.toUpperCase()}-${PARENT_ID}-01`,
    'all-zero trace id': `00-${'0'.repeat(32)}-${PARENT_ID}-01`,
    'all-zero parent id': `00-${TRACE_ID}-${'0'.repeat(16)}-01`,
    'version ff': `ff-${TRACE_ID}-${PARENT_ID}-01`,
    'version 00 with more fields': `${EXAMPLE}-extra`,
    'too short': EXAMPLE.slice(0, 54),
    'short trace id': `00-${TRACE_ID.slice(1)}-${PARENT_ID}-01`,
    'long parent id': `00-${TRACE_ID}-${PARENT_ID}0-01`,
    'non-hex': `00-${TRACE_ID.replace('4', 'g')}-${PARENT_ID}-01`,
    'wrong delimiter': EXAMPLE.replaceAll('-', '_'),
    'one-digit flags': `00-${TRACE_ID}-${PARENT_ID}-1`,
    'two headers, comma-joined': `${EXAMPLE}, ${EXAMPLE}`,
    'later version followed by other than a dash': `01-${TRACE_ID}-${PARENT_ID}-01x`,
  };
  for (const [what, value] of Object.entries(invalid)) t.equal(parseTraceparent(value), undefined, what);
});

t.test('a later version is read for its first four fields', async (t) => {
  const expected = { traceId: TRACE_ID, parentId: PARENT_ID, flags: 1 };
  t.same(parseTraceparent(`01-${TRACE_ID}-${PARENT_ID}-01`), expected, 'same size');
  t.same(parseTraceparent(`cc-${TRACE_ID}-${PARENT_ID}-01-what-the-future-will-be-like`), expected);
});

t.test('parse(format(x)) is x for every valid trace parent', async (t) => {
  const hex = (length: number) =>
    fc
      .string({
        unit: fc.constantFrom(...'0123456789abcdef'.split('')),
        minLength: length,
        maxLength: length,
      })
      .filter((s) => !/^0+$/.test(s));
  t.doesNotThrow(() =>
    fc.assert(
      fc.property(hex(32), hex(16), fc.integer({ min: 0, max: 255 }), (traceId, parentId, flags) => {
        const parent = { traceId, parentId, flags };
        const header = formatTraceparent(parent);
        return header.length === 55 && JSON.stringify(parseTraceparent(header)) === JSON.stringify(parent);
      }),
    ),
  );
});

t.test('new ids are valid and distinct', async (t) => {
  const traces = new Set(Array.from({ length: 200 }, newTraceId));
  const spans = new Set(Array.from({ length: 200 }, newSpanId));
  t.equal(traces.size, 200);
  t.equal(spans.size, 200);
  t.ok([...traces].every(isTraceId) && [...spans].every(isSpanId));
  t.notOk(isTraceId(TRACE_ID.toUpperCase()));
  t.notOk(isSpanId('0'.repeat(16)));
});

t.test('a server continues a valid trace and starts one otherwise', async (t) => {
  const continued = serverSpan(EXAMPLE);
  t.equal(continued.traceId, TRACE_ID);
  t.equal(continued.parentId, PARENT_ID, "the caller's span is the parent");
  t.ok(isSpanId(continued.spanId) && continued.spanId !== PARENT_ID, 'a span of its own');
  t.same(traceFields(continued), {
    trace_id: TRACE_ID,
    span_id: continued.spanId,
    parent_span_id: PARENT_ID,
  });
  t.equal(serverSpan(`00-${TRACE_ID}-${PARENT_ID}-00`).flags, 0, 'an unsampled caller stays unsampled');
  t.equal(serverSpan(`00-${TRACE_ID}-${PARENT_ID}-ff`).flags, SAMPLED, 'undefined flags are not passed on');

  const started = serverSpan(EXAMPLE.toUpperCase());
  t.ok(isTraceId(started.traceId) && started.traceId !== TRACE_ID, 'an invalid header starts a new trace');
  t.equal(started.parentId, undefined);
  t.same(Object.keys(traceFields(started)), ['trace_id', 'span_id'], 'no parent to log');
});

t.test('each client attempt is a new sampled span of the given trace', async (t) => {
  const [a, b] = [childSpan(TRACE_ID), childSpan(TRACE_ID)];
  t.equal(a.traceId, TRACE_ID);
  t.not(a.spanId, b.spanId);
  t.equal(a.flags, SAMPLED);
  t.equal(formatTraceparent({ traceId: a.traceId, parentId: a.spanId, flags: a.flags }).slice(-2), '01');
});

t.test('traceIdOption accepts a trace id and names a bad one', async (t) => {
  t.equal(traceIdOption('traceId', undefined), undefined);
  t.equal(traceIdOption('traceId', TRACE_ID), TRACE_ID);
  t.throws(() => traceIdOption('traceId', 'abc'), {
    code: ErrorCodes.INVALID_OPTION,
    message:
      'Invalid option `traceId`: expected a W3C trace id (32 lowercase hex digits, not all zero), got "abc"',
  });
  t.throws(() => traceIdOption('traceId', '0'.repeat(32)), { code: ErrorCodes.INVALID_OPTION });
});
