/** Where the time went: the latest run's stages beside its wall time, and each stage over the runs. */
import { STAGES } from '../../monitoring/run-stats.js';
import { CATEGORY_AXIS, COLORS, runLabels, valueAxis, type ChartSpec } from '../charts.js';
import { html } from '../html.js';
import { historySection, section, type Section } from '../section.js';
import type { NumberedRun } from '../view.js';

const STAGE_COLORS = [COLORS.current, COLORS.ok, COLORS.accent, COLORS.warn] as const;

function latestStages(run: NumberedRun): ChartSpec {
  const t = run.record.timings;
  return {
    type: 'bar',
    data: {
      labels: [...STAGES, 'whole run'],
      datasets: [
        {
          label: 'milliseconds',
          data: [...STAGES.map((s) => t.stages_ms[s]), t.duration_ms],
          backgroundColor: [...STAGE_COLORS, COLORS.reference],
        },
      ],
    },
    options: {
      indexAxis: 'y',
      plugins: { legend: { display: false } },
      scales: { x: valueAxis('milliseconds'), y: CATEGORY_AXIS },
    },
  };
}

function stagesOverRuns(runs: readonly NumberedRun[]): ChartSpec {
  return {
    type: 'line',
    data: {
      labels: runLabels(runs),
      datasets: STAGES.map((stage, i) => ({
        label: stage,
        data: runs.map((r) => r.record.timings.stages_ms[stage]),
        borderColor: STAGE_COLORS[i],
        backgroundColor: STAGE_COLORS[i],
        pointRadius: 3,
      })),
    },
    options: { scales: { x: CATEGORY_AXIS, y: valueAxis('milliseconds') } },
  };
}

export const stagesSection: Section = historySection((view, { chart }) =>
  section(
    'stages',
    'Stage timings',
    html`<div class="grid">
      ${chart(latestStages(view.latest), {
        title: `Run #${view.latest.number}`,
        note: 'The stages stream into each other, so they overlap and do not add up to the whole run.',
      })}
      ${chart(stagesOverRuns(view.runs), { title: 'Each stage over the runs' })}
    </div>`,
  ),
);
