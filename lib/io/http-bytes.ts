/**
 * An `http(s)://` input read with undici (issue #17): the body streamed as it arrives, never held whole;
 * redirects followed up to {@link MAX_REDIRECTIONS}; a gzip, deflate or br `Content-Encoding` decoded; ranged
 * GETs for Parquet. A password in the URL (`https://user:pass@host/…`) is sent as Basic authorization and
 * dropped from the URL, so it reaches neither a redirect's other host nor a log.
 *
 * 404 and 410 are BI_ERR_INPUT_NOT_FOUND; any other error status, a refused or failed connection and a server
 * that ignores Range when Parquet needs it are BI_ERR_ACCESS. Errors name the URL as {@link redactUrl} does.
 */
import { STATUS_CODES } from 'node:http';
import { PassThrough, pipeline, type Readable, type Transform } from 'node:stream';
import { getGlobalDispatcher, interceptors, request, type Dispatcher } from 'undici';
import { BatchInferError, ErrorCodes, show } from '../errors.js';
import { decodersFor, type ByteRangeReader, type RemoteBytes, type RemoteOptions } from './remote-bytes.js';
import { redactUrl as redactLocation } from './locations.js';

/** Redirects followed before the run gives up on a URL. */
export const MAX_REDIRECTIONS = 5;

/** How a URL is named in logs and errors: {@link redactLocation} without the fragment. */
export function redactUrl(url: string | URL): string {
  const copy = new URL(url);
  copy.hash = '';
  return redactLocation(copy.href);
}

interface Target {
  href: string;
  name: string;
  headers: Record<string, string>;
}

function targetOf(url: string): Target {
  const parsed = new URL(url);
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:')
    throw new BatchInferError(ErrorCodes.INVALID_OPTION, `Not an http(s) URL: ${show(redactUrl(parsed))}`);
  const name = redactUrl(parsed);
  const headers: Record<string, string> = {};
  if (parsed.username !== '' || parsed.password !== '') {
    const user = `${decodeURIComponent(parsed.username)}:${decodeURIComponent(parsed.password)}`;
    headers.authorization = `Basic ${Buffer.from(user).toString('base64')}`;
    parsed.username = '';
    parsed.password = '';
  }
  parsed.hash = '';
  return { href: parsed.href, name, headers };
}

/** Opens `url` (nothing is requested until a method asks). */
export function openHttpBytes(url: string, options: RemoteOptions = {}): RemoteBytes {
  const target = targetOf(url);
  const { signal } = options;
  let probe: Promise<Probe> | undefined;
  const probed = (): Promise<Probe> => (probe ??= probeSize(target, signal));
  return {
    name: target.name,
    size: () => probed().then((p) => p.size),
    bytes: () => streamBody(target, signal),
    rangeReader: (): ByteRangeReader => ({
      name: target.name,
      async byteLength() {
        const { size, ranges } = await probed();
        if (!ranges || size === undefined) throw noRanges(target);
        return size;
      },
      read: (start, end) => readRange(target, start, end, signal),
    }),
  };
}

function dispatcher(): Dispatcher {
  // The global dispatcher, so a proxy set with setGlobalDispatcher (EnvHttpProxyAgent) applies.
  return getGlobalDispatcher().compose(interceptors.redirect({ maxRedirections: MAX_REDIRECTIONS }));
}

async function send(
  target: Target,
  headers: Record<string, string>,
  signal: AbortSignal | undefined,
): Promise<Dispatcher.ResponseData> {
  let response: Dispatcher.ResponseData;
  try {
    response = await request(target.href, {
      method: 'GET',
      headers: { ...target.headers, ...headers },
      signal,
      dispatcher: dispatcher(),
    });
  } catch (cause) {
    if (signal?.aborted === true) throw cause;
    throw new BatchInferError(ErrorCodes.ACCESS, `Cannot reach ${show(target.name)}: ${reason(cause)}`, {
      cause,
      context: { file: target.name },
    });
  }
  const status = response.statusCode;
  if ((status >= 200 && status < 300) || status === 416) return response;
  await response.body.dump();
  const answered = `${show(target.name)} answered ${status} ${STATUS_CODES[status] ?? ''}`.trimEnd();
  const context = { status, file: target.name };
  if (status === 404 || status === 410)
    throw new BatchInferError(ErrorCodes.INPUT_NOT_FOUND, `Input not found: ${answered}`, { context });
  const more = status >= 300 && status < 400 ? ` (more than ${MAX_REDIRECTIONS} redirects?)` : '';
  throw new BatchInferError(ErrorCodes.ACCESS, `Cannot read ${answered}${more}`, { context });
}

function reason(cause: unknown): string {
  const code = (cause as { code?: unknown }).code;
  const message = cause instanceof Error ? cause.message : String(cause);
  return typeof code === 'string' && !message.includes(code) ? `${message} (${code})` : message;
}

function header(response: Dispatcher.ResponseData, name: string): string | undefined {
  const value = response.headers[name];
  return Array.isArray(value) ? value.join(', ') : value;
}

function streamBody(target: Target, signal: AbortSignal | undefined): Readable {
  const out = new PassThrough();
  // Destroying the stream before the response came aborts the request too.
  const abort = new AbortController();
  out.once('close', () => abort.abort());
  const signals = signal === undefined ? [abort.signal] : [abort.signal, signal];
  send(target, { 'accept-encoding': 'gzip, deflate, br' }, AbortSignal.any(signals))
    .then((response) => {
      let decoders: Transform[];
      try {
        decoders = decodersFor(target.name, header(response, 'content-encoding'));
      } catch (err) {
        response.body.destroy();
        throw err;
      }
      pipeline([response.body, ...decoders, out], () => undefined);
    })
    .catch((err: unknown) => out.destroy(err as Error));
  return out;
}

interface Probe {
  /** The stored length, when the server says it. */
  size: number | undefined;
  /** Whether the server answered a Range request with 206. */
  ranges: boolean;
}

/** One GET of the first byte: the length from Content-Range, and whether ranges work at all. */
async function probeSize(target: Target, signal: AbortSignal | undefined): Promise<Probe> {
  const response = await send(target, { range: 'bytes=0-0', 'accept-encoding': 'identity' }, signal);
  await response.body.dump();
  const total = /\/(\d+)$/.exec(header(response, 'content-range') ?? '')?.[1];
  if (response.statusCode === 206 || response.statusCode === 416)
    return { size: total === undefined ? undefined : Number(total), ranges: response.statusCode === 206 };
  const length = header(response, 'content-length');
  const encoded = header(response, 'content-encoding') ?? 'identity';
  return { size: length === undefined || encoded !== 'identity' ? undefined : Number(length), ranges: false };
}

function noRanges(target: Target): BatchInferError {
  return new BatchInferError(
    ErrorCodes.ACCESS,
    `Cannot read ${show(target.name)} in parts: the server ignores Range requests or does not say the length, which Parquet needs (download it and read the file)`,
    { context: { file: target.name } },
  );
}

async function readRange(
  target: Target,
  start: number,
  end: number,
  signal: AbortSignal | undefined,
): Promise<ArrayBuffer> {
  if (end <= start) return new ArrayBuffer(0);
  const response = await send(
    target,
    { range: `bytes=${start}-${end - 1}`, 'accept-encoding': 'identity' },
    signal,
  );
  const range = header(response, 'content-range');
  if (response.statusCode !== 206 || !(range ?? '').startsWith(`bytes ${start}-`)) {
    await response.body.dump();
    if (response.statusCode === 416)
      throw new BatchInferError(
        ErrorCodes.ACCESS,
        `Cannot read bytes ${start}–${end} of ${show(target.name)}: past its end (${range ?? 'no length given'})`,
        { context: { file: target.name, status: 416 } },
      );
    throw noRanges(target);
  }
  const bytes = await response.body.arrayBuffer();
  if (bytes.byteLength !== end - start)
    throw new BatchInferError(
      ErrorCodes.ACCESS,
      `Cannot read bytes ${start}–${end} of ${show(target.name)}: the server sent ${bytes.byteLength} bytes`,
      { context: { file: target.name } },
    );
  return bytes;
}
