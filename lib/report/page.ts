/**
 * The report page: the sections in order, one inline stylesheet, the chart configurations as a JSON block
 * and one inline script (Chart.js, then the few lines that draw). Self-contained: a Content-Security-Policy
 * allows exactly that stylesheet and that script by hash and nothing else, so the page makes no request.
 */
import { createHash } from 'node:crypto';
import { VERSION } from '../version.js';
import { CHART_SCRIPT, type ChartSpec } from './charts.js';
import { timestamp } from './format.js';
import { EMPTY, html, jsonForScript, raw, type Html } from './html.js';
import { badge, toneOf, type ChartPlacement, type Section, type SectionContext } from './section.js';
import { alertsSection } from './sections/alerts.js';
import { comparisonSection } from './sections/comparison.js';
import { distributionsSection } from './sections/distributions.js';
import { driftSection } from './sections/drift.js';
import { runsSection } from './sections/runs.js';
import { stagesSection } from './sections/stages.js';
import { summarySection } from './sections/summary.js';
import { trendsSection } from './sections/trends.js';
import { STYLE } from './style.js';
import { versionNames } from '../core/compare.js';
import type { HistoryView, ReportView } from './view.js';

/**
 * The sections, top to bottom. The history's come first; the comparison follows the drift it may answer, and
 * is the whole page when the report is made from a comparison alone.
 */
export const SECTIONS: readonly Section[] = [
  summarySection,
  alertsSection,
  trendsSection,
  stagesSection,
  driftSection,
  distributionsSection,
  comparisonSection,
  runsSection,
];

const sha256 = (text: string): string => `'sha256-${createHash('sha256').update(text).digest('base64')}'`;

/** A script's text as element content: `</script` inside it would end the element early. */
const scriptText = (source: string): string => source.replace(/<\/script/gi, '<\\/script');

/** A comparison in a line: the model, both versions and the sets. */
function comparisonLine(c: NonNullable<ReportView['comparison']>): Html {
  const v = versionNames(c);
  return html`model <code>${c.model}</code>: ${v.champion} (champion) against ${v.challenger} (challenger) on
    ${c.sets.length} labelled set${c.sets.length === 1 ? '' : 's'}
    (${c.sets.map((s, i) => html`${i === 0 ? '' : ', '}<code>${s.name}</code>`)})`;
}

function historyHeader(title: string, history: HistoryView): Html {
  const run = history.latest.record;
  const others =
    history.otherPipelines.length === 0
      ? ''
      : html` · other pipelines in this history:
        ${history.otherPipelines.map((p, i) => html`${i === 0 ? '' : ', '}<code>${p}</code>`)}`;
  return html`<header class="top">
    <div>
      <h1>${title}</h1>
      <p>
        Pipeline <code>${history.pipeline}</code> · model
        <code>${run.model.name}</code>${run.model.version === null ? '' : ` version ${run.model.version}`} ·
        run #${history.latest.number} of ${history.total}, ${timestamp(run.timings.started_at)}${others}
      </p>
    </div>
    ${badge(run.status, toneOf(run.status))}
  </header>`;
}

function header(view: ReportView): Html {
  if (view.history !== null) return historyHeader(view.title, view.history);
  return html`<header class="top">
    <div>
      <h1>${view.title}</h1>
      <p>Comparison of ${view.comparison === null ? '' : comparisonLine(view.comparison)}</p>
    </div>
  </header>`;
}

/** What the page was made from, for its footer. */
function sources(view: ReportView): Html {
  const runs =
    view.history === null
      ? EMPTY
      : html`${view.history.total} run${view.history.total === 1 ? '' : 's'} of
          <code>${view.history.pipeline}</code>`;
  const comparison =
    view.comparison === null ? EMPTY : html`the comparison of ${comparisonLine(view.comparison)}`;
  return html`${runs}${view.history !== null && view.comparison !== null ? ' and ' : ''}${comparison}`;
}

/**
 * The whole page for `view`, with `chartLibrary` (Chart.js's UMD build, see chart-library.ts) inlined.
 * Every value from the history is escaped (html.ts), chart data included (jsonForScript).
 */
export function renderReport(view: ReportView, chartLibrary: string): string {
  const specs: Record<string, ChartSpec> = {};
  const context: SectionContext = {
    view,
    chart: (spec: ChartSpec, placement: ChartPlacement): Html => {
      const id = `chart-${Object.keys(specs).length + 1}`;
      specs[id] = spec;
      return html`<figure class="chart">
        <figcaption>${placement.title}</figcaption>
        <div class="chart-box"><canvas id="${id}" role="img" aria-label="${placement.title}"></canvas></div>
        ${placement.note === undefined ? '' : html`<p class="chart-note">${placement.note}</p>`}
      </figure>`;
    },
  };
  const body = SECTIONS.map((s) => s(context));
  const script = scriptText(`${chartLibrary}\n${CHART_SCRIPT}\n`);
  const csp = [
    "default-src 'none'",
    `script-src ${sha256(script)}`,
    `style-src ${sha256(STYLE)}`,
    "base-uri 'none'",
    "form-action 'none'",
  ].join('; ');
  // Built outside the template: the hashes must cover exactly the elements' text, so no formatter may touch it.
  const style = raw(`<style>${STYLE}</style>`);
  const data = raw(`<script type="application/json" id="chart-specs">${jsonForScript(specs)}</script>`);
  const code = raw(`<script>${script}</script>`);
  return html`<!doctype html>
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta http-equiv="Content-Security-Policy" content="${csp}" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="generator" content="batch-infer ${VERSION}" />
        <title>${view.title}</title>
        ${style}
      </head>
      <body>
        ${header(view)}
        <main>${body}</main>
        <footer>
          Made by batch-infer ${VERSION} at ${timestamp(view.generatedAt)} from ${sources(view)}. Charts by
          Chart.js (MIT), inlined: this page loads nothing.
        </footer>
        ${data} ${code}
      </body>
    </html> `.text;
}
