/**
 * The resume journal: one JSON line per committed point of a run — how many input rows are finished, and how
 * many bytes of the output and rejects files hold them. A line is appended and fsync'd only after the data it
 * describes was fsync'd, so after a crash the last complete line is a state the files on disk really reach.
 * The first line holds the config fingerprint: a journal of a run with other settings is refused, since
 * continuing it would mix two different outputs.
 */
import { open, readFile, rm, type FileHandle } from 'node:fs/promises';
import { BatchInferError, ErrorCodes } from '../errors.js';
import { outputError } from './output-error.js';

/** A committed point: rows finished and the state of the files and counts there. */
export interface Checkpoint {
  /** Input rows (header excluded) that are in the output or the rejects. */
  rows: number;
  outputBytes: number;
  rejectsBytes: number;
  scored: number;
  rejected: number;
}

export const START: Checkpoint = Object.freeze({
  rows: 0,
  outputBytes: 0,
  rejectsBytes: 0,
  scored: 0,
  rejected: 0,
});

/**
 * The last checkpoint of an existing journal, START for an empty one, or undefined when there is none. A last
 * line cut short by a crash is ignored.
 */
export async function readJournal(path: string, fingerprint: string): Promise<Checkpoint | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as { code?: string }).code === 'ENOENT') return undefined;
    throw err;
  }
  const lines = text.split('\n');
  let head: { fingerprint?: unknown };
  try {
    head = JSON.parse(lines[0] ?? '') as { fingerprint?: unknown };
  } catch {
    // the crash came before the first line was whole: nothing was committed
    return undefined;
  }
  if (head.fingerprint !== fingerprint) {
    throw new BatchInferError(
      ErrorCodes.JOURNAL_MISMATCH,
      `Cannot resume: the journal ${path} belongs to a run with other settings (config fingerprint ${String(head.fingerprint)}, this run's is ${fingerprint}); delete it and its .partial files to start over`,
    );
  }
  let last: Checkpoint = START;
  for (const line of lines.slice(1)) {
    try {
      last = JSON.parse(line) as Checkpoint;
    } catch {
      break; // a torn last line
    }
  }
  return last;
}

export interface Journal {
  commit(checkpoint: Checkpoint): Promise<void>;
  close(): Promise<void>;
  remove(): Promise<void>;
}

/**
 * Starts the journal over from `from`: the fingerprint line, then `from` itself unless it is the start.
 * Rewriting rather than appending leaves no torn line from a crash in the middle of the file.
 */
export async function openJournal(path: string, fingerprint: string, from: Checkpoint): Promise<Journal> {
  const append = async (handle: FileHandle, text: string): Promise<void> => {
    try {
      await handle.write(text);
      await handle.sync();
    } catch (err) {
      throw outputError(path, err);
    }
  };
  const handle: FileHandle = await open(path, 'w').catch((err: unknown) => {
    throw outputError(path, err);
  });
  await append(
    handle,
    `${JSON.stringify({ fingerprint, format: 1 })}\n${from.rows > 0 ? `${JSON.stringify(from)}\n` : ''}`,
  ).catch(async (err: unknown) => {
    await handle.close();
    throw err;
  });
  return {
    commit: (checkpoint) => append(handle, `${JSON.stringify(checkpoint)}\n`),
    close: () => handle.close(),
    async remove() {
      await handle.close().catch(() => undefined);
      await rm(path, { force: true });
    },
  };
}
