/**
 * A fault-injecting proxy in front of a real model server: each inference request is either forwarded as is
 * or, at the configured rates, answered with a 5xx, a 429 with `Retry-After`, a reset connection, no answer
 * at all (a stall, until the client gives up) or a forwarded answer whose body trickles in slowly. The faults
 * are drawn from a seeded PRNG in the order requests arrive, so a seed replays the same sequence of faults,
 * and the proxy counts what it did: a client's retries can be checked against what it was made to suffer.
 */
import {
  Agent,
  createServer,
  request as forward,
  type IncomingMessage,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import { mulberry32 } from '../lib/core/prng.js';
import {
  integerOption,
  numberOption,
  refuseUnknownKeys,
  requiredOption,
  stringOption,
} from '../lib/core/options.js';
import { BatchInferError, ErrorCodes, show } from '../lib/errors.js';

/** Share (0…1) of faultable requests that get each fault; together at most 1. Each defaults to 0. */
export interface FaultRates {
  /** Answered with a 5xx status (one of `errorStatuses`) without reaching the server. */
  serverError?: number;
  /** Answered 429 Too Many Requests with `Retry-After: <retryAfter>`, without reaching the server. */
  tooManyRequests?: number;
  /** Read, then the connection is reset (TCP RST) before any answer, as when a server crashes. */
  reset?: number;
  /** Read and never answered: the connection stays open until the client gives up, e.g. at its timeout. */
  stall?: number;
  /** Forwarded; the server's answer is sent in small pieces spread over `slowBodyMs`. */
  slowBody?: number;
}

/** A kind of fault (a key of {@link FaultRates}). */
export type Fault = keyof FaultRates;

const FAULTS: readonly Fault[] = ['serverError', 'tooManyRequests', 'reset', 'stall', 'slowBody'];

export interface FaultProxyOptions {
  /**
   * Base URL of the model server to forward to, e.g. the `url` of a `createModelServer` app listening on
   * port 0. Required.
   * @example "http://127.0.0.1:8080"
   */
  target: string;
  /**
   * How often each fault is injected.
   * @default no faults (a plain proxy)
   * @example { serverError: 0.1, reset: 0.05, stall: 0.01 }
   */
  rates?: FaultRates;
  /**
   * Seed of the PRNG the faults are drawn from: the n-th faultable request gets the same fault on every run.
   * @default 1
   */
  seed?: number;
  /**
   * Statuses of `serverError` faults, drawn uniformly.
   * @default [500, 502, 503, 504]
   */
  errorStatuses?: readonly number[];
  /**
   * `Retry-After` header of `tooManyRequests` faults (delay-seconds or an HTTP-date).
   * @default "1"
   */
  retryAfter?: string;
  /**
   * Milliseconds over which a `slowBody` answer is sent. Longer than the client's timeout, the client gives up.
   * @default 500
   */
  slowBodyMs?: number;
  /**
   * Which requests may get a fault; the others are always forwarded.
   * @default POST requests (inference), so health checks, metadata and metrics always pass
   */
  faultable?: (method: string, path: string) => boolean;
}

/** What the proxy saw and did. */
export interface FaultCounts {
  /** Requests received. */
  requests: number;
  /** Requests forwarded to the server (`slowBody` ones included). */
  forwarded: number;
  /** Requests answered with an injected 5xx. */
  serverError: number;
  /** Requests answered with an injected 429. */
  tooManyRequests: number;
  /** Requests whose connection was reset. */
  reset: number;
  /** Requests never answered. */
  stall: number;
  /** Requests forwarded with a slow answer. */
  slowBody: number;
  /** Forwarded requests whose client left before the whole answer was sent (its timeout passed, say). */
  abandoned: number;
}

export interface FaultProxy {
  /** The proxy's base URL: point the client here instead of at the server. */
  readonly url: string;
  /** Live counts. */
  readonly counts: Readonly<FaultCounts>;
  /** Stops listening and drops every open connection, stalled ones included. */
  close(): Promise<void>;
}

function rateOf(rates: FaultRates, fault: Fault): number {
  return numberOption(`rates.${fault}`, rates[fault], 0, 0, 1);
}

/** The upper bounds of each fault's slice of [0, 1): a draw below the first is `serverError`, and so on. */
function thresholds(rates: FaultRates): { fault: Fault; below: number }[] {
  refuseUnknownKeys('startFaultProxy rates', rates, FAULTS);
  let below = 0;
  const slices = FAULTS.map((fault) => ({ fault, below: (below += rateOf(rates, fault)) }));
  if (below > 1 + 1e-9)
    throw new BatchInferError(
      ErrorCodes.INVALID_OPTION,
      `Invalid option \`rates\`: the rates add up to ${below}, more than 1`,
      { context: { option: 'rates' } },
    );
  return slices;
}

function statusesOption(value: readonly number[] | undefined): readonly number[] {
  const statuses = value ?? [500, 502, 503, 504];
  if (statuses.length === 0 || !statuses.every((s) => Number.isInteger(s) && s >= 500 && s <= 599))
    throw new BatchInferError(
      ErrorCodes.INVALID_OPTION,
      `Invalid option \`errorStatuses\`: expected a non-empty list of 5xx statuses, got ${show(value)}`,
      { context: { option: 'errorStatuses' } },
    );
  return statuses;
}

function sendError(res: ServerResponse, status: number, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify({ error: `fault proxy: injected ${status}` }));
}

/**
 * Starts a fault-injecting proxy on a free loopback port, in front of the model server at `target`.
 *
 * @example
 * const proxy = await startFaultProxy({
 *   target: 'http://127.0.0.1:8080', // e.g. `batch-infer serve`, or createModelServer() on port 0
 *   rates: { serverError: 0.1, reset: 0.05, stall: 0.01 },
 *   seed: 42,
 * });
 * await createPipeline({ input: 'in.csv', output: 'out.csv', url: proxy.url, timeout: 1000, retries: 10 });
 * console.log(proxy.counts); // { requests, forwarded, serverError, reset, stall, … }
 */
export async function startFaultProxy(options: FaultProxyOptions): Promise<FaultProxy> {
  refuseUnknownKeys('startFaultProxy', options, [
    'target',
    'rates',
    'seed',
    'errorStatuses',
    'retryAfter',
    'slowBodyMs',
    'faultable',
  ]);
  const target = new URL(requiredOption('target', stringOption('target', options.target)));
  const slices = thresholds(options.rates ?? {});
  const random = mulberry32(integerOption('seed', options.seed, 1, 0, 2 ** 32 - 1));
  const statuses = statusesOption(options.errorStatuses);
  const retryAfter = stringOption('retryAfter', options.retryAfter, '1');
  const slowBodyMs = integerOption('slowBodyMs', options.slowBodyMs, 500, 0);
  const faultable = options.faultable ?? ((method: string) => method === 'POST');
  const counts: FaultCounts = {
    requests: 0,
    forwarded: 0,
    serverError: 0,
    tooManyRequests: 0,
    reset: 0,
    stall: 0,
    slowBody: 0,
    abandoned: 0,
  };
  const agent = new Agent({ keepAlive: true });
  const timers = new Set<NodeJS.Timeout>();

  const draw = (): Fault | undefined => {
    const r = random();
    return slices.find((s) => r < s.below)?.fault;
  };

  /** Sends the server's answer: at once, or in ten pieces over `slowBodyMs`. */
  const relay = (answer: IncomingMessage, res: ServerResponse, slow: boolean): void => {
    if (!slow) {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
      return;
    }
    const chunks: Buffer[] = [];
    answer.on('data', (chunk: Buffer) => chunks.push(chunk));
    answer.on('end', () => {
      const body = Buffer.concat(chunks);
      res.writeHead(answer.statusCode ?? 502, { ...answer.headers, 'content-length': String(body.length) });
      const pieces = 10;
      const send = (i: number): void => {
        if (res.destroyed) return;
        const piece = body.subarray(
          Math.floor((i * body.length) / pieces),
          Math.floor(((i + 1) * body.length) / pieces),
        );
        if (i === pieces - 1) {
          res.end(piece);
          return;
        }
        res.write(piece);
        const timer = setTimeout(() => {
          timers.delete(timer);
          send(i + 1);
        }, slowBodyMs / pieces);
        timers.add(timer);
      };
      send(0);
    });
  };

  const pass = (req: IncomingMessage, res: ServerResponse, slow: boolean): void => {
    counts.forwarded++;
    const upstream = forward(
      new URL(req.url ?? '/', target),
      { method: req.method, headers: { ...req.headers, host: target.host }, agent },
      (answer) => relay(answer, res, slow),
    );
    res.on('close', () => {
      if (!res.writableFinished) {
        counts.abandoned++;
        upstream.destroy();
      }
    });
    upstream.on('error', (err) => {
      if (res.destroyed) return; // the client left first, and the request was dropped with it
      if (!res.headersSent) {
        res.writeHead(502, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: `fault proxy: ${target.origin} failed: ${err.message}` }));
      } else res.destroy();
    });
    req.pipe(upstream);
  };

  const server = createServer((req, res) => {
    counts.requests++;
    const fault = faultable(req.method ?? 'GET', req.url ?? '/') ? draw() : undefined;
    if (fault === undefined || fault === 'slowBody') {
      if (fault !== undefined) counts[fault]++;
      pass(req, res, fault === 'slowBody');
      return;
    }
    counts[fault]++;
    if (fault === 'serverError') {
      const status = statuses[Math.floor(random() * statuses.length)] as number;
      // The body is read first, so the client sees an answer to the request it sent, not a broken pipe.
      req.resume().on('end', () => sendError(res, status));
    } else if (fault === 'tooManyRequests') {
      req.resume().on('end', () => sendError(res, 429, { 'retry-after': retryAfter }));
    } else if (fault === 'reset') {
      req.resume().on('end', () => req.socket.resetAndDestroy());
    } else req.resume(); // a stall: read the request, never answer
  });
  // A client's keep-alive connection must not be closed under it by an idle timeout during a test.
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    counts,
    close: () =>
      new Promise<void>((resolve) => {
        for (const timer of timers) clearTimeout(timer);
        timers.clear();
        server.close(() => resolve());
        server.closeAllConnections();
        agent.destroy();
      }),
  };
}
