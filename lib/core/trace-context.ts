/**
 * W3C Trace Context (https://www.w3.org/TR/trace-context/), as far as log correlation needs it: the batch
 * client sends a `traceparent` on every HTTP attempt (the run's trace id, a new span id per attempt), the server
 * continues that trace or starts its own, and both sides log `trace_id` and `span_id` (the key names of
 * OpenTelemetry's pino instrumentation), so one failed batch leads straight to the server's log lines.
 * No spans are exported anywhere; an OpenTelemetry SDK can take over the same headers later.
 */
import { randomFillSync } from 'node:crypto';
import { BatchInferError, ErrorCodes, show } from '../errors.js';

/** The `sampled` bit of trace-flags: the caller may have recorded its part of the trace. */
export const SAMPLED = 0x01;

/** The fields of a `traceparent` header. */
export interface TraceParent {
  /** 32 lowercase hex digits, not all zero: the whole distributed trace. */
  traceId: string;
  /** 16 lowercase hex digits, not all zero: the caller's span (the request as the caller sees it). */
  parentId: string;
  /** trace-flags, 0 … 255; bit 0 is SAMPLED. */
  flags: number;
}

/** A span: one unit of work (an HTTP attempt, a request a server handles) inside a trace. */
export interface Span {
  traceId: string;
  /** 16 lowercase hex digits, not all zero. */
  spanId: string;
  /** The caller's span, when the work continues a trace a caller started. */
  parentId: string | undefined;
  flags: number;
}

const TRACE_ID = /^[0-9a-f]{32}$/;
const SPAN_ID = /^[0-9a-f]{16}$/;
// version 00's format, with the spec's "Versioning of traceparent" rule for later versions: the same four fields, then `-` and more, or nothing.
const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/;

const allZero = (hex: string): boolean => /^0+$/.test(hex);

/** True for a valid trace-id: 32 lowercase hex digits, not all zero. */
export function isTraceId(value: string): boolean {
  return TRACE_ID.test(value) && !allZero(value);
}

/** True for a valid span id (parent-id): 16 lowercase hex digits, not all zero. */
export function isSpanId(value: string): boolean {
  return SPAN_ID.test(value) && !allZero(value);
}

// Random bytes drawn a pool at a time (as `randomUUID` does): one `randomBytes` call per id cost a server
// ~12 µs, two per request; a slice of the pool costs well under one.
const POOL_BYTES = 4096;
let pool = Buffer.alloc(0);
let used = 0;

function randomHex(bytes: number): string {
  for (;;) {
    if (used + bytes > pool.length) {
      pool = randomFillSync(Buffer.allocUnsafe(POOL_BYTES));
      used = 0;
    }
    const hex = pool.toString('hex', used, used + bytes);
    used += bytes;
    // All zeros is the spec's "invalid"; at 2^-64 odds, but a redraw costs nothing.
    if (!allZero(hex)) return hex;
  }
}

/** A new random trace id. */
export function newTraceId(): string {
  return randomHex(16);
}

/** A new random span id. */
export function newSpanId(): string {
  return randomHex(8);
}

/**
 * Reads a `traceparent` header; undefined when it is absent or invalid, which the spec says to treat alike
 * ("Versioning of traceparent": restart the trace). Valid: lowercase hex only, trace-id and parent-id not all zero, version not
 * `ff`, and version `00` exactly 55 characters; a later version may carry more fields after a `-`, which are
 * ignored. Several `traceparent` headers (joined by a comma) are invalid too.
 */
export function parseTraceparent(value: string | undefined): TraceParent | undefined {
  if (value === undefined) return undefined;
  const match = TRACEPARENT.exec(value.trim());
  if (match === null) return undefined;
  const [, version, traceId = '', parentId = '', flags = '', rest] = match;
  if (version === 'ff' || (version === '00' && rest !== undefined)) return undefined;
  if (allZero(traceId) || allZero(parentId)) return undefined;
  return { traceId, parentId, flags: Number.parseInt(flags, 16) };
}

/** The `traceparent` header (version 00) for a trace, the caller's span and flags. */
export function formatTraceparent(parent: TraceParent): string {
  return `00-${parent.traceId}-${parent.parentId}-${parent.flags.toString(16).padStart(2, '0')}`;
}

/** A new span of `traceId` whose caller is the trace's root (the pipeline run): one HTTP attempt. */
export function childSpan(traceId: string): Span {
  return { traceId, spanId: newSpanId(), parentId: undefined, flags: SAMPLED };
}

/**
 * The span a server opens for one request: in the caller's trace, under the caller's span and with its flags,
 * when the request's `traceparent` is valid; otherwise the root span of a new trace.
 */
export function serverSpan(traceparent: string | undefined): Span {
  const parent = parseTraceparent(traceparent);
  return parent === undefined
    ? { traceId: newTraceId(), spanId: newSpanId(), parentId: undefined, flags: SAMPLED }
    : {
        traceId: parent.traceId,
        spanId: newSpanId(),
        parentId: parent.parentId,
        // Flags this version does not define are not passed on (the spec's "Other Flags": set to zero).
        flags: parent.flags & SAMPLED,
      };
}

/** The span's ids as log fields, under OpenTelemetry's key names (`parent_span_id` only when it has one). */
export function traceFields(span: Span): Record<string, string> {
  return {
    trace_id: span.traceId,
    span_id: span.spanId,
    ...(span.parentId === undefined ? {} : { parent_span_id: span.parentId }),
  };
}

/** Normalizes an option holding a trace id: undefined stays undefined, anything else must be a valid one. */
export function traceIdOption(name: string, value: unknown): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value === 'string' && isTraceId(value)) return value;
  throw new BatchInferError(
    ErrorCodes.INVALID_OPTION,
    `Invalid option \`${name}\`: expected a W3C trace id (32 lowercase hex digits, not all zero), got ${show(value)}`,
    { context: { option: name } },
  );
}
