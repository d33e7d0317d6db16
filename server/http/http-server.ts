/**
 * The `node:http` server a model server listens with: Koa's handler plus the limits that keep slow or
 * malformed clients from holding the server (slowloris: headers or bodies sent a byte at a time; oversized
 * headers). Node answers such clients itself, with a plain-text body; here they get the server's JSON error
 * body like every other 4xx, and the connection is closed.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { ResolvedServerOptions } from '../options.js';

type Limits = Pick<
  ResolvedServerOptions,
  'headersTimeoutMs' | 'receiveTimeoutMs' | 'keepAliveTimeoutMs' | 'maxHeaderBytes'
>;

/** How often Node looks for connections past their header or request timeout (its default is 30 s). */
const CHECK_INTERVAL_MS = 1_000;

/** Node's client error codes → status and the explanation the client gets. */
const CLIENT_ERRORS: Readonly<Record<string, [number, string, string]>> = {
  ERR_HTTP_REQUEST_TIMEOUT: [408, 'Request Timeout', 'The request was not received in time'],
  HPE_HEADER_OVERFLOW: [431, 'Request Header Fields Too Large', 'The request headers are too large'],
  HPE_CHUNK_EXTENSIONS_OVERFLOW: [413, 'Content Too Large', 'The chunk extensions are too large'],
};
const BAD_REQUEST: [number, string, string] = [400, 'Bad Request', 'Malformed HTTP request'];

/** A complete HTTP/1.1 response that closes the connection. */
function closingResponse([status, reason, message]: [number, string, string]): string {
  const body = JSON.stringify({ error: message });
  return [
    `HTTP/1.1 ${status} ${reason}`,
    'Content-Type: application/json; charset=utf-8',
    `Content-Length: ${Buffer.byteLength(body)}`,
    'Connection: close',
    '',
    body,
  ].join('\r\n');
}

/**
 * Answers a client error and closes, unless the request at fault already has its answer, whole (`answered`: a
 * 413 sent while the body still streams in) or begun (Node's own rule, lib/_http_server.js socketOnError):
 * then the connection is only closed, as a second response would be read as the answer to a later request.
 */
function onClientError(answered: WeakSet<Socket>, err: NodeJS.ErrnoException, socket: Socket): void {
  const pending = (socket as Socket & { _httpMessage?: ServerResponse | null })._httpMessage;
  if (
    err.code === 'ECONNRESET' ||
    !socket.writable ||
    answered.has(socket) ||
    pending?.headersSent === true
  ) {
    socket.destroy();
    return;
  }
  socket.end(closingResponse(CLIENT_ERRORS[err.code ?? ''] ?? BAD_REQUEST), () => socket.destroy());
}

export function createHttpServer(
  handler: (req: IncomingMessage, res: ServerResponse) => void,
  limits: Limits,
): Server {
  const answered = new WeakSet<Socket>();
  const server = createServer(
    {
      headersTimeout: limits.headersTimeoutMs,
      requestTimeout: limits.receiveTimeoutMs,
      keepAliveTimeout: limits.keepAliveTimeoutMs,
      maxHeaderSize: limits.maxHeaderBytes,
      connectionsCheckingInterval: Math.min(CHECK_INTERVAL_MS, limits.headersTimeoutMs),
    },
    (req, res) => {
      // A new request on the connection means the previous one was received whole.
      answered.delete(req.socket);
      res.once('finish', () => {
        if (!req.complete) answered.add(req.socket);
      });
      handler(req, res);
    },
  );
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) =>
    onClientError(answered, err, socket),
  );
  return server;
}
