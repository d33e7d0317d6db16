/** The report's stylesheet: light, quiet, system fonts; colour only for status. */
import { COLORS } from './charts.js';

export const STYLE = `
:root { color-scheme: light; --border: #d0d7de; --muted: ${COLORS.text}; --subtle: #f6f8fa; }
* { box-sizing: border-box; }
body { margin: 0; background: var(--subtle); color: #1f2328; font: 14px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
header.top, main, footer { max-width: 1240px; margin: 0 auto; padding: 0 24px; }
header.top { display: flex; align-items: center; justify-content: space-between; gap: 16px; padding-top: 24px; padding-bottom: 8px; }
h1 { margin: 0; font-size: 22px; }
h2 { margin: 0 0 12px; font-size: 16px; }
h3 { margin: 20px 0 8px; font-size: 15px; }
header.top p { margin: 4px 0 0; color: var(--muted); }
header.top .badge { font-size: 15px; padding: 4px 14px; }
section { background: #fff; border: 1px solid var(--border); border-radius: 8px; padding: 16px 20px; margin: 16px 0; }
code { font: 12px ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; background: #eff1f3; padding: 1px 4px; border-radius: 4px; }
a { color: ${COLORS.current}; }
.badge { display: inline-block; padding: 0 8px; border-radius: 999px; font-size: 12px; font-weight: 600; white-space: nowrap; }
.badge.ok { background: #dafbe1; color: ${COLORS.ok}; }
.badge.warn { background: #fff8c5; color: #9a6700; }
.badge.bad { background: #ffebe9; color: ${COLORS.bad}; }
.badge.muted { background: #eaeef2; color: var(--muted); }
.delta.ok { color: ${COLORS.ok}; font-weight: 600; }
.delta.bad { color: ${COLORS.bad}; font-weight: 600; }
.delta.muted, .muted { color: var(--muted); }
.warn-text { color: #9a6700; }
.cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(220px, 1fr)); gap: 12px; }
.card { border: 1px solid var(--border); border-radius: 6px; padding: 10px 12px; }
.card .label { color: var(--muted); font-size: 12px; text-transform: uppercase; letter-spacing: .04em; }
.card .value { font-size: 22px; font-weight: 600; margin: 2px 0; font-variant-numeric: tabular-nums; }
.card .detail { color: var(--muted); font-size: 12px; }
.inputs { margin: 12px 0 0; color: var(--muted); overflow-wrap: anywhere; }
.lead { margin-top: 0; }
.note, .empty { color: var(--muted); }
.scroll { overflow-x: auto; }
.scroll + .scroll { margin-top: 14px; }
table { width: 100%; border-collapse: collapse; font-size: 13px; }
th, td { padding: 5px 10px; border-bottom: 1px solid #eaeef2; text-align: left; vertical-align: top; }
th { color: var(--muted); font-weight: 600; border-bottom-color: var(--border); white-space: nowrap; }
tbody tr:nth-child(even) { background: var(--subtle); }
.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.over { color: ${COLORS.bad}; font-weight: 600; }
td.changed { font-weight: 600; }
.grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(440px, 1fr)); gap: 16px; margin-top: 12px; }
.grid.small { grid-template-columns: repeat(auto-fill, minmax(270px, 1fr)); }
figure.chart { margin: 0; border: 1px solid var(--border); border-radius: 6px; padding: 10px 12px; min-width: 0; }
figure.chart figcaption { font-weight: 600; }
.chart-box { position: relative; height: 260px; }
.grid.small .chart-box { height: 190px; }
.chart-note { margin: 4px 0 0; color: var(--muted); font-size: 12px; }
footer { color: var(--muted); font-size: 12px; padding-bottom: 24px; }
`;
