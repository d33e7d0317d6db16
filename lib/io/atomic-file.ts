/**
 * Output files are written under a temporary name beside the target, flushed to disk, and renamed only when
 * the run succeeds, so a reader never sees a half-written file and a failed run leaves nothing behind, its
 * temporary file included. A target that exists and is not a regular file (`/dev/stdout`, `/dev/null`, a FIFO)
 * is written in place: a rename would put a file where the device was. Every failure to create, write or
 * rename is a BI_ERR_OUTPUT_WRITE naming the target (output-error.ts).
 */
import { Writable } from 'node:stream';
import { open, rename, rm, stat, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { outputError } from './output-error.js';

export interface AtomicFile {
  readonly path: string;
  readonly stream: Writable;
  commit(): Promise<void>;
  discard(): Promise<void>;
}

function tempName(path: string): string {
  return join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
}

/** Removes a temporary file if it is there; a path that cannot hold one (ENOTDIR) holds none. */
async function removeTemp(temp: string): Promise<void> {
  await rm(temp, { force: true }).catch((err: unknown) => {
    if ((err as { code?: unknown }).code !== 'ENOTDIR') throw err;
  });
}

/** Writes a small file whole: to a temporary name, flushed to disk, then renamed over the target. */
export async function writeFileAtomic(path: string, text: string): Promise<void> {
  const temp = tempName(path);
  try {
    const handle = await open(temp, 'wx');
    try {
      await handle.writeFile(text);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, path);
  } catch (err) {
    await removeTemp(temp);
    throw outputError(path, err);
  }
}

/** True when `path` exists and is not a regular file: it is written in place, not replaced. */
async function isSpecial(path: string): Promise<boolean> {
  const info = await stat(path).catch((err: unknown) => {
    if ((err as { code?: unknown }).code === 'ENOENT') return undefined;
    throw err;
  });
  if (info?.isDirectory() === true) throw Object.assign(new Error('is a directory'), { code: 'EISDIR' });
  return info !== undefined && !info.isFile();
}

/** A Writable over one file handle whose every error is a BI_ERR_OUTPUT_WRITE naming the target. */
class OutputFile extends Writable {
  readonly #target: string;
  readonly #temp: string;
  #handle: FileHandle | undefined;
  /** Written in place (a device or FIFO), not through the temporary file. */
  inPlace = false;

  constructor(target: string, temp: string) {
    super();
    this.#target = target;
    this.#temp = temp;
  }

  override _construct(callback: (error?: Error | null) => void): void {
    const opening = async (): Promise<void> => {
      this.inPlace = await isSpecial(this.#target);
      this.#handle = await open(this.inPlace ? this.#target : this.#temp, this.inPlace ? 'w' : 'wx');
    };
    opening().then(
      () => callback(),
      (err: unknown) => callback(outputError(this.#target, err)),
    );
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.#writeAll(chunk).then(() => callback(), callback);
  }

  override _writev(chunks: { chunk: Buffer }[], callback: (error?: Error | null) => void): void {
    this.#writeAll(Buffer.concat(chunks.map((c) => c.chunk))).then(() => callback(), callback);
  }

  override _final(callback: (error?: Error | null) => void): void {
    // Flushed before the rename, so that after a power cut the renamed file is whole, not empty.
    if (this.inPlace || this.#handle === undefined) callback();
    else
      this.#handle.sync().then(
        () => callback(),
        (err: unknown) => callback(outputError(this.#target, err)),
      );
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    const handle = this.#handle;
    this.#handle = undefined;
    if (handle === undefined) callback(error);
    else
      handle.close().then(
        () => callback(error),
        (err: unknown) => callback(error ?? outputError(this.#target, err)),
      );
  }

  async #writeAll(bytes: Buffer): Promise<void> {
    const handle = this.#handle as FileHandle;
    try {
      for (let done = 0; done < bytes.length;) {
        const { bytesWritten } = await handle.write(bytes, done, bytes.length - done);
        done += bytesWritten;
      }
    } catch (err) {
      throw outputError(this.#target, err);
    }
  }
}

export function openAtomicFile(path: string): AtomicFile {
  const temp = tempName(path);
  const stream = new OutputFile(path, temp);
  const closed = (): Promise<void> =>
    new Promise((resolve) => (stream.closed ? resolve() : stream.once('close', () => resolve())));
  return {
    path,
    stream,
    async commit() {
      if (stream.inPlace) return;
      await closed();
      await rename(temp, path).catch((err: unknown) => {
        throw outputError(path, err);
      });
    },
    async discard() {
      stream.destroy();
      // The file may still be opening: wait until it is closed, or it would appear after the rm.
      await closed();
      if (!stream.inPlace) await removeTemp(temp);
    },
  };
}
