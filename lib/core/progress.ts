/**
 * Run progress as plain numbers: rows by outcome, throughput, and an ETA when the input's size is known. The
 * ETA comes from bytes for text files (a file's byte size is known before it is read, its row count is not), and
 * from rows for a source that knows its row count (a Parquet file's footer).
 */

export interface Progress {
  rows: { read: number; scored: number; rejected: number };
  elapsed_ms: number;
  /** Rows read per second since the start. */
  rows_per_s: number;
  /** Input bytes read so far, when the input is files. */
  bytes_read: number | undefined;
  /** Total input bytes, when the input is files. */
  bytes_total: number | undefined;
  /** Total input rows, when the source knows them before reading (Parquet). */
  rows_total?: number;
  /** Estimated milliseconds left, when the input's size is known and some of it has been read. */
  eta_ms: number | undefined;
  /** True on the last call, once every row has been written. */
  done: boolean;
}

export interface ProgressCounts {
  read: number;
  scored: number;
  rejected: number;
  bytesRead: number | undefined;
  bytesTotal: number | undefined;
  rowsTotal?: number | undefined;
}

export function progressOf(counts: ProgressCounts, elapsedMs: number, done: boolean): Progress {
  const { read, scored, rejected, bytesRead, bytesTotal, rowsTotal } = counts;
  const seconds = elapsedMs / 1000;
  let eta: number | undefined;
  if (done) eta = 0;
  else if (bytesRead !== undefined && bytesTotal !== undefined && bytesRead > 0 && bytesTotal > 0) {
    // Bytes are read ahead of scoring by the stream buffers; rows done / rows read corrects for that.
    const fraction = Math.min(1, bytesRead / bytesTotal) * (read > 0 ? (scored + rejected) / read : 0);
    eta = fraction > 0 ? Math.round((elapsedMs * (1 - fraction)) / fraction) : undefined;
  } else if (rowsTotal !== undefined && rowsTotal > 0) {
    const fraction = Math.min(1, (scored + rejected) / rowsTotal);
    eta = fraction > 0 ? Math.round((elapsedMs * (1 - fraction)) / fraction) : undefined;
  }
  return {
    rows: { read, scored, rejected },
    elapsed_ms: Math.round(elapsedMs),
    rows_per_s: seconds > 0 ? Math.round(read / seconds) : 0,
    bytes_read: bytesRead,
    bytes_total: bytesTotal,
    ...(rowsTotal === undefined ? {} : { rows_total: rowsTotal }),
    eta_ms: eta,
    done,
  };
}
