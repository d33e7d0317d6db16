/**
 * `s3://bucket/key` outputs (issue #17), written with a multipart upload (`@aws-sdk/lib-storage`) as the run
 * produces them, so no more than {@link S3_UPLOAD_MEMORY} bytes are held: the part being filled, and up to
 * {@link QUEUE_SIZE} parts of {@link PART_SIZE} on their way to the server. Objects up to 10,000 parts (80 GB)
 * can be written this way.
 *
 * The object appears only at `commit()`: the upload's body is ended there, not when the run's stream ends, so
 * the last part (or, for an output under one part, the single PutObject) and CompleteMultipartUpload come
 * last. `discard()`, a failed upload and a failed run abort the multipart upload (AbortMultipartUpload, once
 * the parts in flight are answered, so no part lands after it). A killed process leaves no object either,
 * only the uploaded parts of an incomplete upload: a bucket lifecycle rule (AbortIncompleteMultipartUpload)
 * removes those.
 *
 * `uploadFileToS3` sends a finished local file (a Parquet output written to a temporary file first) the same
 * way, streamed from disk.
 */
import { HeadBucketCommand, type S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { createReadStream } from 'node:fs';
import { PassThrough, Writable, type Readable } from 'node:stream';
import { BatchInferError, ErrorCodes, show } from '../errors.js';
import type { RecordSink } from './table.js';
import { defaultS3Client, parseS3Url, s3Error, type S3Location } from './s3-client.js';

/** Bytes of each part but the last. S3's minimum is 5 MiB; 8 MiB × 10,000 parts allows 80 GB objects. */
export const PART_SIZE = 8 << 20;
/** Parts uploaded at once. */
export const QUEUE_SIZE = 2;
/** The most the upload holds: the part being filled, the parts in flight, and the copy made to cut a part. */
export const S3_UPLOAD_MEMORY = (QUEUE_SIZE + 2) * PART_SIZE;

export interface S3SinkOptions {
  /** The object's Content-Type, e.g. `text/csv` or `application/vnd.apache.parquet`. */
  contentType?: string;
  /** @default defaultS3Client(): the environment's region, endpoint and credentials */
  client?: S3Client;
}

/** Thrown into the upload's body to end it without completing: the upload then aborts. */
class Discarded extends Error {}

/** Starts an upload of `body` and reports how it settled, never rejecting (no unhandled rejection). */
function startUpload(
  client: S3Client,
  location: S3Location,
  body: Readable,
  contentType: string | undefined,
): Promise<unknown> {
  const upload = new Upload({
    client,
    params: {
      Bucket: location.bucket,
      Key: location.key,
      Body: body,
      ...(contentType === undefined ? {} : { ContentType: contentType }),
    },
    partSize: PART_SIZE,
    queueSize: QUEUE_SIZE,
    leavePartsOnError: false,
  });
  return upload.done().then(
    () => undefined,
    (err: unknown) => err ?? new Error('upload failed'),
  );
}

function uploadError(name: string, cause: unknown): Error {
  return s3Error(name, 'write', cause, ErrorCodes.OUTPUT_WRITE);
}

/** A sink of bytes into `s3://bucket/key`: see the module's header. */
export function s3Sink(url: string, options: S3SinkOptions = {}): RecordSink {
  const location = parseS3Url(url);
  const name = `s3://${location.bucket}/${location.key}`;
  const client = options.client ?? defaultS3Client();
  const body = new PassThrough();
  let failure: Error | undefined;
  const stream = new Writable({
    // The write is done once the body took the chunk, which waits while the upload is behind.
    write: (chunk: Buffer, _encoding, callback) => body.write(chunk, callback),
    // The body is ended by commit(), so the object does not appear when the run's stream ends.
    final: (callback) => callback(),
  });
  const fail = (err: unknown): void => {
    failure ??= uploadError(name, err);
    stream.destroy(failure);
    body.destroy(new Discarded('failed'));
  };
  const settled = startUpload(client, location, body, options.contentType).then((err) => {
    if (err !== undefined && !(err instanceof Discarded)) fail(err);
    return err;
  });
  // A missing bucket, missing credentials or an unreachable server are told before the run has scored a
  // part's worth of rows.
  client.send(new HeadBucketCommand({ Bucket: location.bucket })).catch((err: unknown) => {
    const status = (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
    // Writing may be allowed where listing is not: only a definite "no such bucket" or no answer fails.
    if (status === 404)
      fail(
        new BatchInferError(ErrorCodes.ACCESS, `Cannot write ${show(name)}: no such bucket (HTTP 404)`, {
          cause: err,
          context: { file: name, status },
        }),
      );
    else if (status === undefined) fail(err);
  });
  return {
    kind: 'bytes',
    name,
    stream,
    async commit() {
      body.end();
      await settled;
      if (failure !== undefined) throw failure;
    },
    async discard() {
      body.destroy(new Discarded('discarded'));
      const err = await settled;
      if (err !== undefined && !(err instanceof Discarded) && failure === undefined)
        throw uploadError(name, err);
    },
  };
}

/**
 * Uploads the local file `path` to `s3://bucket/key`, streamed from disk in parts; the object appears when the
 * whole file is sent. Aborting `signal` (or a failure) aborts the multipart upload and leaves no object.
 */
export async function uploadFileToS3(
  path: string,
  url: string,
  options: S3SinkOptions & { signal?: AbortSignal } = {},
): Promise<void> {
  options.signal?.throwIfAborted();
  const location = parseS3Url(url);
  const name = `s3://${location.bucket}/${location.key}`;
  const file = createReadStream(path);
  let fileError: unknown;
  file.once('error', (err) => (fileError = err));
  const onAbort = (): void => {
    file.destroy(options.signal?.reason as Error);
  };
  options.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    const err = await startUpload(options.client ?? defaultS3Client(), location, file, options.contentType);
    if (err === undefined) return;
    if (err === fileError && !(options.signal?.aborted ?? false))
      throw new BatchInferError(
        ErrorCodes.OUTPUT_WRITE,
        `Cannot upload ${show(path)} to ${show(name)}: ${(err as Error).message}`,
        {
          cause: err,
          context: { file: name },
        },
      );
    throw uploadError(name, err);
  } finally {
    options.signal?.removeEventListener('abort', onAbort);
  }
}
