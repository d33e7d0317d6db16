/**
 * An `s3://bucket/key` input (issue #17): its bytes streamed from one GetObject (never held whole), its size
 * from HeadObject, and ranged GetObjects for Parquet, each pinned to the ETag the size came with so that an
 * object replaced during the run fails the read instead of mixing two versions. A `Content-Encoding` the
 * object was stored with (gzip, deflate, br) is decoded for the text formats, as a browser would.
 *
 * Errors (s3-client.ts): no such key is BI_ERR_INPUT_NOT_FOUND; no such bucket, refused credentials and an
 * unreachable endpoint are BI_ERR_ACCESS.
 */
import {
  GetObjectCommand,
  HeadObjectCommand,
  type HeadObjectCommandOutput,
  type S3Client,
} from '@aws-sdk/client-s3';
import { PassThrough, pipeline, type Readable, type Transform } from 'node:stream';
import { BatchInferError, ErrorCodes, show } from '../errors.js';
import { decodersFor, type ByteRangeReader, type RemoteBytes, type RemoteOptions } from './remote-bytes.js';
import { defaultS3Client, parseS3Url, s3Error, type S3Location } from './s3-client.js';

export interface S3Options extends RemoteOptions {
  /** @default defaultS3Client(): the environment's region, endpoint and credentials */
  client?: S3Client;
}

/** Opens `s3://bucket/key` (nothing is requested until a method asks). */
export function openS3Bytes(url: string, options: S3Options = {}): RemoteBytes {
  const location = parseS3Url(url);
  const object: S3Object = {
    ...location,
    name: `s3://${location.bucket}/${location.key}`,
    client: options.client ?? defaultS3Client(),
    signal: options.signal,
  };
  let head: Promise<HeadObjectCommandOutput> | undefined;
  const headed = (): Promise<HeadObjectCommandOutput> => (head ??= headObject(object));
  return {
    name: object.name,
    async size() {
      const { ContentLength, ContentEncoding } = await headed();
      return (ContentEncoding ?? 'identity') === 'identity' ? ContentLength : undefined;
    },
    bytes: () => streamObject(object),
    rangeReader: (): ByteRangeReader => ({
      name: object.name,
      async byteLength() {
        const { ContentLength } = await headed();
        if (ContentLength === undefined)
          throw new BatchInferError(ErrorCodes.ACCESS, `Cannot read ${show(object.name)}: no length given`);
        return ContentLength;
      },
      async read(start, end) {
        if (end <= start) return new ArrayBuffer(0);
        return readRange(object, start, end, (await headed()).ETag);
      },
    }),
  };
}

interface S3Object extends S3Location {
  name: string;
  client: S3Client;
  signal: AbortSignal | undefined;
}

function abortable(signal: AbortSignal | undefined): { abortSignal?: AbortSignal } {
  return signal === undefined ? {} : { abortSignal: signal };
}

function get(object: S3Object, extra: { Range?: string; IfMatch?: string }, signal = object.signal) {
  return object.client
    .send(new GetObjectCommand({ Bucket: object.bucket, Key: object.key, ...extra }), abortable(signal))
    .catch((err: unknown) => {
      throw s3Error(object.name, 'read', err, ErrorCodes.ACCESS);
    });
}

async function headObject(object: S3Object): Promise<HeadObjectCommandOutput> {
  try {
    return await object.client.send(
      new HeadObjectCommand({ Bucket: object.bucket, Key: object.key }),
      abortable(object.signal),
    );
  } catch (err) {
    // A HEAD answer has no body, so a 404 does not say whether the key or the bucket is missing, nor a 403
    // whether the key or the policy is wrong: a GET of one byte says.
    const status = (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode ?? 0;
    if (status >= 400 && status < 500)
      await get(object, { Range: 'bytes=0-0' }).then((r) => (r.Body as Readable | undefined)?.destroy());
    throw s3Error(object.name, 'read', err, ErrorCodes.ACCESS);
  }
}

function streamObject(object: S3Object): Readable {
  const out = new PassThrough();
  // Destroying the stream before the response came aborts the request too.
  const abort = new AbortController();
  out.once('close', () => abort.abort());
  const signals = object.signal === undefined ? [abort.signal] : [abort.signal, object.signal];
  get(object, {}, AbortSignal.any(signals))
    .then((response) => {
      const body = response.Body as Readable;
      let decoders: Transform[];
      try {
        decoders = decodersFor(object.name, response.ContentEncoding);
      } catch (err) {
        body.destroy();
        throw err;
      }
      pipeline([body, ...decoders, out], () => undefined);
    })
    .catch((err: unknown) => out.destroy(err as Error));
  return out;
}

async function readRange(
  object: S3Object,
  start: number,
  end: number,
  etag: string | undefined,
): Promise<ArrayBuffer> {
  const response = await get(object, {
    Range: `bytes=${start}-${end - 1}`,
    ...(etag === undefined ? {} : { IfMatch: etag }),
  });
  const bytes = await response.Body?.transformToByteArray();
  if (bytes?.byteLength !== end - start)
    throw new BatchInferError(
      ErrorCodes.ACCESS,
      `Cannot read bytes ${start}–${end} of ${show(object.name)}: the server sent ${bytes?.byteLength ?? 0} bytes`,
      { context: { file: object.name } },
    );
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
}
