/**
 * Reruns the fine-tuning over seeds and Seattle rehearsal variants and prints the Markdown tables of
 * docs/fine-tuning.md: how much of v2's gain is the method and how much the seed, and what rehearsing Seattle
 * (not at all, with its labels, with v1's probabilities) does to forgetting. Nothing is written to models/.
 * Slow (a fine-tuning per row): `npx tsx training/finetune-sweep.ts [seeds]`, seeds defaulting to 5.
 */
import { pathToFileURL } from 'node:url';
import { signed4 } from '../lib/core/compare.js';
import { median } from '../lib/core/trends.js';
import { FINETUNE_SEED, finetuneWeatherModel, targetLines, type Rehearsal } from './finetune.js';

const REHEARSALS: readonly Rehearsal[] = ['none', 'labels', 'distill'];

interface Row {
  rehearsal: Rehearsal;
  seed: number;
  epochs: number;
  best: number;
  figures: number[];
  met: boolean;
}

async function main(): Promise<void> {
  const count = Number(process.argv[2] ?? 5);
  const seeds = [FINETUNE_SEED, ...Array.from({ length: count - 1 }, (_, i) => i + 1)];
  const rows: Row[] = [];
  for (const rehearsal of REHEARSALS) {
    for (const seed of seeds) {
      const tuned = await finetuneWeatherModel({ seed, rehearsal });
      const delta = (set: string, metric: string): number =>
        tuned.comparison.sets.find((s) => s.name === set)?.deltas.find((d) => d.metric === metric)?.delta ??
        NaN;
      rows.push({
        rehearsal,
        seed,
        epochs: tuned.curve.length,
        best: tuned.bestEpoch,
        figures: [
          delta('new_york_2015', 'macro_f1'),
          delta('new_york_2015', 'accuracy'),
          delta('seattle_2015', 'accuracy'),
          delta('seattle_2015', 'macro_f1'),
        ],
        met: targetLines(tuned.comparison).ok,
      });
      console.error(`${rehearsal} seed ${seed}: ${rows[rows.length - 1]?.figures.map(signed4).join(' ')}`);
    }
  }
  const header =
    '| rehearsal | seed | epochs (best) | NY Δ macro-F1 | NY Δ accuracy | Seattle Δ accuracy | Seattle Δ macro-F1 | targets |';
  const align = '|---|---:|---:|---:|---:|---:|---:|---|';
  console.log(
    [
      header,
      align,
      ...rows.map(
        (r) =>
          `| ${r.rehearsal} | ${r.seed} | ${r.epochs} (${r.best}) | ${r.figures.map(signed4).join(' | ')} | ${r.met ? 'met' : 'missed'} |`,
      ),
      '',
      '| rehearsal | NY Δ macro-F1 median [min, max] | Seattle Δ accuracy median [min, max] | targets met |',
      '|---|---|---|---:|',
      ...REHEARSALS.map((rehearsal) => {
        const of = rows.filter((r) => r.rehearsal === rehearsal);
        const spread = (j: number): string => {
          const values = of.map((r) => r.figures[j] as number);
          return `${signed4(median(values))} [${signed4(Math.min(...values))}, ${signed4(Math.max(...values))}]`;
        };
        return `| ${rehearsal} | ${spread(0)} | ${spread(2)} | ${of.filter((r) => r.met).length} of ${of.length} |`;
      }),
    ].join('\n'),
  );
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
