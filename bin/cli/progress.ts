/**
 * The CLI's view of pipeline progress: a progress line redrawn in place when stderr is a terminal, and a JSON
 * log line every `--progress-interval` otherwise (CI logs and log collectors want lines, not carriage returns).
 * Neither with `--quiet`.
 */
import type { Logger } from 'pino';
import type { Progress } from '../../lib/core/progress.js';
import { isTerminal } from './terminal.js';

/** 83_000 → "1m 23s". */
export function formatDuration(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

export function formatProgress(p: Progress): string {
  const n = (x: number): string => x.toLocaleString('en-US');
  const parts = [`${n(p.rows.scored)} scored`, `${n(p.rows.rejected)} rejected`, `${n(p.rows_per_s)} rows/s`];
  if (p.bytes_read !== undefined && p.bytes_total !== undefined && p.bytes_total > 0)
    parts.push(`${Math.min(100, Math.floor((100 * p.bytes_read) / p.bytes_total))} % read`);
  else if (p.rows_total !== undefined && p.rows_total > 0)
    parts.push(`${Math.min(100, Math.floor((100 * p.rows.read) / p.rows_total))} % read`);
  parts.push(
    p.done
      ? `done in ${formatDuration(p.elapsed_ms)}`
      : `ETA ${p.eta_ms === undefined ? '?' : formatDuration(p.eta_ms)}`,
  );
  return parts.join(' · ');
}

export interface ProgressSink {
  /** Milliseconds between reports. */
  interval: number;
  report(progress: Progress): void;
}

/**
 * Progress for people on a terminal (pretty logs on a TTY): a live line; for anyone else, a log line every
 * `logIntervalMs` — JSON, or with `--log-format pretty` off a terminal, the live line's text.
 */
export function progressSink(
  stderr: NodeJS.WritableStream,
  logger: Logger,
  logIntervalMs: number,
  pretty = false,
): ProgressSink {
  // --quiet (or a level above info) asks for no progress; the log lines below are info lines anyway.
  if (pretty && isTerminal(stderr) && logger.isLevelEnabled('info')) {
    return {
      interval: 250,
      report(p) {
        // \r + "erase line": redraw in place; the last report ends the line so logs start on their own.
        stderr.write(`\r\x1b[K${formatProgress(p)}${p.done ? '\n' : ''}`);
      },
    };
  }
  return {
    interval: logIntervalMs,
    report(p) {
      if (p.done) return;
      if (pretty) logger.info(formatProgress(p));
      else logger.info({ progress: p }, 'progress');
    },
  };
}
