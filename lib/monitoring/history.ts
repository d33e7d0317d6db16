/**
 * The run history: one RunRecord per line (JSON Lines). A run appends its line with a single O_APPEND write,
 * so concurrent runs (shards) never interleave within a line.
 */
import { appendFile, mkdir, readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { RunRecord } from './run-record.js';

/** The pipeline's earlier runs, oldest first; lines that are not records (a torn last line, say) are skipped. */
export async function readHistory(path: string, pipeline: string): Promise<RunRecord[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as { code?: unknown }).code === 'ENOENT') return [];
    throw err;
  }
  return text.split('\n').flatMap((line) => {
    try {
      const record = JSON.parse(line) as RunRecord;
      return record.pipeline === pipeline && typeof record.status === 'string' ? [record] : [];
    } catch {
      return [];
    }
  });
}

export async function appendHistory(path: string, record: RunRecord): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await appendFile(path, `${JSON.stringify(record)}\n`, { flag: 'a' });
}
