/**
 * Output files are written under a temporary name beside the target and renamed only when the run succeeds,
 * so a reader never sees a half-written file and a failed run leaves nothing behind.
 */
import { createWriteStream, type WriteStream } from 'node:fs';
import { open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';

export interface AtomicFile {
  readonly path: string;
  readonly stream: WriteStream;
  commit(): Promise<void>;
  discard(): Promise<void>;
}

function tempName(path: string): string {
  return join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
}

/** Writes a small file whole: to a temporary name, flushed to disk, then renamed over the target. */
export async function writeFileAtomic(path: string, text: string): Promise<void> {
  const temp = tempName(path);
  const handle = await open(temp, 'w');
  try {
    await handle.writeFile(text);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(temp, path).catch(async (err: unknown) => {
    await rm(temp, { force: true });
    throw err;
  });
}

export function openAtomicFile(path: string): AtomicFile {
  const temp = tempName(path);
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
