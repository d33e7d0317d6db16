/**
 * The end of an output stage's `_transform` or `_flush`: push the chunks it made (empty ones skipped), or fail
 * the stream with what making them threw (a kept column the input lacks, when the header is made).
 */
import type { Transform, TransformCallback } from 'node:stream';

export function pushChunks(
  stream: Transform,
  make: () => readonly (Buffer | string[])[],
  callback: TransformCallback,
): void {
  let chunks: readonly (Buffer | string[])[];
  try {
    chunks = make();
  } catch (err) {
    callback(err as Error);
    return;
  }
  for (const chunk of chunks) if (chunk.length > 0) stream.push(chunk);
  callback();
}
