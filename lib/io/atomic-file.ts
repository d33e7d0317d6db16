/**
 * Output files are written under a temporary name beside the target and renamed only when the run succeeds,
 * so a reader never sees a half-written file and a failed run leaves nothing behind.
 */
import { createWriteStream, type WriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';

export interface AtomicFile {
  readonly path: string;
  readonly stream: WriteStream;
  commit(): Promise<void>;
  discard(): Promise<void>;
}

export function openAtomicFile(path: string): AtomicFile {
  const temp = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  const stream = createWriteStream(temp);
  return {
    path,
    stream,
    async commit() {
      await rename(temp, path);
    },
    async discard() {
      stream.destroy();
      await rm(temp, { force: true });
    },
  };
}
