/**
 * An object behind a URL (`https://…`, `s3://bucket/key`) as the sources read it (issue #17): its bytes as one
 * stream for the text formats (CSV and JSON Lines parse on top of it), or ranged reads for Parquet, which reads
 * the footer first and then only the row groups. http-bytes.ts and s3-bytes.ts give one each.
 */
import type { Readable, Transform } from 'node:stream';
import { createBrotliDecompress, createGunzip, createInflate } from 'node:zlib';
import { BatchInferError, ErrorCodes, show } from '../errors.js';
import type { ByteRangeReader } from './parquet-source.js';

export type { ByteRangeReader };

export interface RemoteBytes {
  /** How logs, summaries and metrics name it: the URL with any password and signature removed. */
  readonly name: string;
  /**
   * Its length as stored, for progress; undefined when the server does not say, or when the body is
   * compressed in transit (`Content-Encoding`), so its length is not that of the bytes read.
   */
  size(): Promise<number | undefined>;
  /**
   * Its bytes, streamed as they arrive (a `Content-Encoding` of gzip, deflate or br decoded). Every call is a
   * new request; destroying the stream ends it. Errors (no such object, access refused) fail the stream with
   * a BatchInferError.
   */
  bytes(): Readable;
  /** Ranged reads of its stored bytes, for Parquet. */
  rangeReader(): ByteRangeReader;
}

export interface RemoteOptions {
  /** Aborting it ends every request of the object, streams included. */
  signal?: AbortSignal;
}

const DECODERS: Readonly<Record<string, () => Transform>> = {
  gzip: createGunzip,
  'x-gzip': createGunzip,
  deflate: createInflate,
  br: createBrotliDecompress,
};

/** What a body's `Content-Encoding` asks for, decoders in the order to apply them (the last coding first). */
export function decodersFor(name: string, contentEncoding: string | undefined): Transform[] {
  const codings = (contentEncoding ?? '')
    .split(',')
    .map((coding) => coding.trim().toLowerCase())
    .filter((coding) => coding !== '' && coding !== 'identity');
  return codings.reverse().map((coding) => {
    const decoder = DECODERS[coding];
    if (decoder === undefined)
      throw new BatchInferError(
        ErrorCodes.ACCESS,
        `Cannot read ${show(name)}: it is sent with Content-Encoding ${show(coding)}, which batch-infer cannot decode (gzip, deflate, br)`,
        { context: { file: name } },
      );
    return decoder();
  });
}
