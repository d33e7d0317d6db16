/**
 * The few lines `batch-infer run` ends with on a terminal (issue #19), like the demo's: what was scored, rows,
 * speed, drift in one line, alerts one per line, and the exact files written. The JSON log line and
 * `--json` carry the whole summary for machines; this is for the person who ran it.
 */
import type { RunSummary } from '../../lib/pipeline.js';
import { formatDuration } from './progress.js';
import type { Styles } from './terminal.js';

const n = (x: number): string => x.toLocaleString('en-US');

/** 487 → "487 ms", 1234 → "1.2 s", 83_000 → "1m 23s". */
function elapsed(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  return formatDuration(ms);
}

/** `a.csv`, `a.csv and b.csv`, `a.csv and 4 more files`. */
function inputsOf(inputs: readonly string[]): string {
  const shown = inputs.map((i) => (i === '-' || i === '<stream>' ? 'stdin' : i));
  if (shown.length <= 2) return shown.join(' and ');
  return `${shown[0] ?? ''} and ${shown.length - 1} more files`;
}

function driftLine(summary: RunSummary): string {
  const drift = summary.drift;
  if (drift === null) return 'not checked (the model has no reference profile; see batch-infer profile)';
  const drifted = drift.features.filter((f) => f.drifted).sort((a, b) => b.score - a.score);
  const total = drift.features.length;
  const predictions = drift.prediction.level === 'drift';
  const features =
    drifted.length === 0
      ? `none of ${total} features drifted${predictions ? ', the predictions did' : ''}`
      : `${drifted.length} of ${total} features drifted: ${drifted.map((f) => f.feature).join(', ')}${predictions ? '; the predictions too' : ''}`;
  const sample = drift.low_sample ? ` (low sample: ${n(drift.rows)} rows)` : '';
  const see =
    summary.summary !== null && (drifted.length > 0 || predictions) ? ` — see ${summary.summary}` : '';
  return `${features}${sample}${see}`;
}

export function formatRunSummary(summary: RunSummary, style: Styles): string {
  const { rows } = summary;
  const model = `${summary.model.name}${summary.model.version === undefined ? '' : ` v${summary.model.version}`}`;
  const how = summary.protocol === 'local' ? 'in process' : `over ${summary.protocol}`;
  const rejected =
    rows.rejected === 0
      ? '0 rejected'
      : style.yellow(
          `${n(rows.rejected)} rejected ${summary.rejects === null ? '(counted only: --rejects <file> keeps them)' : `→ ${summary.rejects}`}`,
        );
  const lines: [string, string][] = [
    ['rows', `${n(rows.read)} read · ${n(rows.scored)} scored · ${rejected}`],
    ['speed', `${n(summary.throughput_rows_per_s)} rows/s (${elapsed(summary.timings.duration_ms)})`],
  ];
  if (summary.shadow !== null)
    lines.push([
      'challenger',
      `v${summary.shadow.version} disagrees on ${(100 * summary.shadow.rate).toFixed(1)} % of the rows`,
    ]);
  const drift = driftLine(summary);
  lines.push([
    'drift',
    summary.drift?.features.some((f) => f.drifted) === true ? style.yellow(drift) : drift,
  ]);
  summary.alerts.forEach((alert, i) => {
    const text = `${alert.alert}: ${alert.message}`;
    lines.push([i === 0 ? 'alerts' : '', alert.severity === 'page' ? style.red(text) : style.yellow(text)]);
  });
  lines.push(['output', summary.output === '<stdout>' ? 'stdout' : summary.output]);
  if (summary.summary !== null) lines.push(['summary', summary.summary]);
  if (summary.metrics !== null) lines.push(['metrics', summary.metrics]);
  return [
    `${style.bold('batch-infer run:')} scored ${inputsOf(summary.inputs)} with ${model} (${how})`,
    ...lines.map(([label, text]) => `  ${style.dim(label.padEnd(10))} ${text}`),
    '',
  ].join('\n');
}
