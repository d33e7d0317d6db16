/**
 * Reads a request body into one Buffer, refusing bodies over `limit` bytes with a 413-coded error. A gzip or
 * deflate body is inflated on the way, the limit applying to the inflated size (compression.ts).
 */
import type { IncomingMessage } from 'node:http';
import { readDecodedBody, requestDecoder } from './compression.js';
import { HttpError } from './http-error.js';

const tooLarge = (limit: number, declared?: number) =>
  new HttpError(
    413,
    declared === undefined
      ? `Request body exceeds the limit of ${limit} bytes`
      : `Request body of ${declared} bytes exceeds the limit of ${limit} bytes`,
  );

/**
 * Bodies read before the request was handed to the Koa app (the fast inference path, fast-infer.ts, hands over
 * a request it leaves to the app after reading its body): readBody returns them instead of reading again.
 */
const alreadyRead = new WeakMap<IncomingMessage, Buffer>();

/** Hands `body`, already read from `req`, to the next readBody of `req`. */
export function setReadBody(req: IncomingMessage, body: Buffer): void {
  alreadyRead.set(req, body);
}

/**
 * A refused body is still read to its end, into nothing, so the connection can carry the next request (the
 * server's receive timeout bounds how long that may take); stopping to read would leave the client's bytes
 * unread and the connection stuck. Events rather than `for await`: leaving such a loop early destroys the
 * request, and with it the reading.
 */
export function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const given = alreadyRead.get(req);
  if (given !== undefined) {
    alreadyRead.delete(req);
    return Promise.resolve(given);
  }
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) {
    req.resume();
    return Promise.reject(tooLarge(limit, declared));
  }
  const decoder = requestDecoder(req.headers['content-encoding']);
  if (decoder instanceof HttpError) {
    req.resume();
    return Promise.reject(decoder);
  }
  if (decoder !== undefined) return readDecodedBody(req, decoder, limit, () => tooLarge(limit));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) {
        chunks.push(chunk);
        return;
      }
      req.off('data', onData);
      req.resume();
      chunks.length = 0;
      reject(tooLarge(limit));
    };
    // The client went away (or the receive timeout cut it off) mid-body: its fault, and nobody is left to read
    // the answer, but the status recorded in metrics and logs must not blame the server.
    const cutOff = () =>
      reject(new HttpError(400, 'The request body was not received completely: the connection was closed'));
    req.on('data', onData);
    // A small body arrives as one chunk, which Node's HTTP parser has already copied out of the socket's
    // buffer: it is the body as it stands, with no second copy.
    req.once('end', () =>
      resolve(chunks.length === 1 && chunks[0] !== undefined ? chunks[0] : Buffer.concat(chunks, size)),
    );
    req.once('error', cutOff);
    req.once('close', () => {
      if (!req.complete) cutOff();
    });
  });
}

/** Parses a JSON body; a syntax error is the client's fault (400). */
export function parseJson(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString('utf8')) as unknown;
  } catch (err) {
    throw new HttpError(400, `Request body is not valid JSON: ${(err as Error).message}`);
  }
}
