/**
 * The contract between the page and its sections. A section is a function from the report's view to a
 * fragment of markup; it places charts through the context, which gives each its canvas and keeps its
 * configuration for the page script. A new section is one more function in page.ts's list.
 */
import type { ChartSpec } from './charts.js';
import { EMPTY, html, type Html } from './html.js';
import type { HistoryView, ReportView } from './view.js';

export interface ChartPlacement {
  /** Accessible name of the chart (the canvas's aria-label) and its caption. */
  title: string;
  /** A line under the chart: what to read in it. */
  note?: string | Html;
}

export interface SectionContext {
  readonly view: ReportView;
  /** A figure holding the chart's canvas; the chart is drawn when the page loads. */
  readonly chart: (spec: ChartSpec, placement: ChartPlacement) => Html;
}

/** One part of the report; an empty fragment leaves it out. */
export type Section = (context: SectionContext) => Html;

/** A section drawn from the run history: left out of a report made from a comparison alone. */
export function historySection(render: (history: HistoryView, context: SectionContext) => Html): Section {
  return (context) => (context.view.history === null ? EMPTY : render(context.view.history, context));
}

/** A titled section of the page; `id` is its anchor. */
export function section(id: string, title: string, body: Html): Html {
  return html`<section id="${id}">
    <h2>${title}</h2>
    ${body}
  </section> `;
}

export type Tone = 'ok' | 'warn' | 'bad' | 'muted';

/** A small coloured label: a status, a drift level, a severity. */
export function badge(text: string, tone: Tone): Html {
  return html`<span class="badge ${tone}">${text}</span>`;
}

/** The tone of a run status or a drift level. */
export function toneOf(value: 'succeeded' | 'failed' | 'ok' | 'warn' | 'drift'): Tone {
  if (value === 'succeeded' || value === 'ok') return 'ok';
  return value === 'warn' ? 'warn' : 'bad';
}
