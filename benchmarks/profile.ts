/**
 * Summarizes V8 CPU profiles (`node --cpu-prof --cpu-prof-dir <dir> …`): self time grouped by stage (which
 * package or source file the sampled function lives in) and the hottest functions, in ms and in µs per row when
 * `--rows` is given. This is how benchmarks/README.md's "Profiles" section was written.
 *
 *   node --cpu-prof --cpu-prof-dir /tmp/prof dist/bin/batch-infer.js run --input big.csv --output out.csv
 *   npx tsx benchmarks/profile.ts /tmp/prof --rows 200000 [--top 25] [--attribute] [--callers <function name>]
 *
 * `--attribute` charges Node's internals (stream plumbing, Buffer slicing, writes) to the stage that called them.
 *
 * Every `.cpuprofile` in the directory (one per thread: a server's worker threads write their own) is summed.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** Stage of a sampled function, from where its code lives; first match wins. */
const STAGES: readonly [RegExp, string][] = [
  [/^\((garbage collector)\)$/, 'GC'],
  [/^\((idle)\)$/, 'idle'],
  [/^\((program)\)$/, 'native / program'],
  [/node_modules\/csv-parse\//, 'csv-parse'],
  [/node_modules\/csv-stringify\//, 'csv-stringify'],
  [/node_modules\/onnxruntime-(node|common)\//, 'onnxruntime (JS side)'],
  [
    /node_modules\/(koa|@koa|koa-compose|statuses|http-errors|delegates|accepts|content-type|type-is|mime|depd|cookies|on-finished|vary|negotiator|encodeurl|escape-html|fresh|only|path-to-regexp)/,
    'koa',
  ],
  [/node_modules\/prom-client\//, 'prom-client'],
  [
    /node_modules\/(pino|thread-stream|sonic-boom|fast-redact|quick-format-unescaped|atomic-sleep|on-exit-leak-free|safe-stable-stringify)/,
    'pino',
  ],
  [/node_modules\/undici\//, 'undici'],
  [/node_modules\/p-limit|yocto-queue/, 'p-limit'],
  [/node_modules\//, 'other packages'],
  [/\/lib\/io\/csv-source\./, 'csv-source'],
  [/\/lib\/core\/(parse|features)\./, 'features (parse + transform)'],
  [/\/lib\/streams\/preprocessor\./, 'Preprocessor'],
  [/\/lib\/streams\/csv-batch-reader\./, 'CSV batch reader'],
  [/\/lib\/core\/row-preparer\./, 'CSV batch reader'],
  [/\/lib\/streams\/batcher\./, 'Batcher'],
  [/\/lib\/streams\/model-scorer\.|\/lib\/core\/bisect\./, 'ModelScorer'],
  [/\/lib\/adapters\/|\/lib\/onnx\//, 'adapters / scorer'],
  [
    /\/lib\/streams\/postprocessor\.|\/lib\/core\/output-format\.|\/lib\/core\/metrics\./,
    'Postprocessor / output format',
  ],
  [/\/lib\/monitoring\/|\/lib\/core\/(drift|profile|trends)\./, 'monitoring (drift, quality)'],
  [/\/lib\/io\//, 'io (sources, sinks)'],
  [/\/server\/inference\//, 'server inference (pool, batcher)'],
  [/\/server\/v2\//, 'server V2 routes'],
  [/\/server\//, 'server (other)'],
  [/\/lib\//, 'lib (other)'],
  [/^node:internal\/streams\//, 'node streams'],
  [/^node:internal\/(fs|stream_base_commons)|^node:fs/, 'node fs'],
  [/^node:internal\/(http|_http)|^node:_http|^node:http|^node:net|^node:internal\/net/, 'node http / net'],
  [
    /^node:internal\/worker|^node:worker_threads|^node:internal\/per_context\/messageport/,
    'node worker_threads',
  ],
  [/^node:internal\/(process\/task_queues|timers)|^node:timers/, 'node event loop (ticks, timers)'],
  [/^node:/, 'node (other)'],
  [/^$/, 'native / builtins'],
];

function stageOf(frame: ProfileNode['callFrame']): string {
  const key = frame.url === '' && frame.functionName.startsWith('(') ? frame.functionName : frame.url;
  for (const [re, stage] of STAGES) if (re.test(key)) return stage;
  return 'other';
}

/** Self time per node id, in µs. */
function selfTimes(profile: CpuProfile): Map<number, number> {
  const self = new Map<number, number>();
  profile.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
  return self;
}

export interface ProfileSummary {
  totalMs: number;
  stages: { stage: string; ms: number }[];
  functions: { name: string; where: string; stage: string; ms: number }[];
}

/** Stages that are Node's or V8's own code, charged to their caller's stage with `attribute`. */
const INTERNAL = /^(native \/ builtins|node .*)$/;

/**
 * Self time per stage and per function. With `attribute`, the time of Node internals and builtins (stream
 * plumbing, Buffer slicing, file writes) goes to the nearest caller outside them: the stage that asked for it.
 */
export function summarize(profiles: readonly CpuProfile[], attribute = false): ProfileSummary {
  const stages = new Map<string, number>();
  const functions = new Map<string, { name: string; where: string; stage: string; ms: number }>();
  let total = 0;
  for (const profile of profiles) {
    const byId = new Map(profile.nodes.map((n) => [n.id, n]));
    const parent = new Map<number, ProfileNode>();
    for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node);
    const charged = (node: ProfileNode): string => {
      const own = stageOf(node.callFrame);
      if (!attribute || !INTERNAL.test(own)) return own;
      for (let up = parent.get(node.id); up !== undefined; up = parent.get(up.id)) {
        const stage = stageOf(up.callFrame);
        if (!INTERNAL.test(stage) && up.callFrame.functionName !== '(root)') return stage;
      }
      return own;
    };
    for (const [id, us] of selfTimes(profile)) {
      const node = byId.get(id);
      if (node === undefined) continue;
      const ms = us / 1000;
      total += ms;
      const stage = charged(node);
      stages.set(stage, (stages.get(stage) ?? 0) + ms);
      const { functionName, url, lineNumber } = node.callFrame;
      const where =
        url === '' ? '' : `${url.replace(/^.*\/(node_modules|lib|server|bin)\//, '$1/')}:${lineNumber + 1}`;
      const key = `${functionName}@${where}`;
      const entry = functions.get(key) ?? { name: functionName || '(anonymous)', where, stage, ms: 0 };
      entry.ms += ms;
      functions.set(key, entry);
    }
  }
  return {
    totalMs: total,
    stages: [...stages].map(([stage, ms]) => ({ stage, ms })).sort((a, b) => b.ms - a.ms),
    functions: [...functions.values()].sort((a, b) => b.ms - a.ms),
  };
}

/** Self time of the functions named `name`, by the function that called them (their parent in the tree). */
export function callers(profiles: readonly CpuProfile[], name: string): { caller: string; ms: number }[] {
  const byCaller = new Map<string, number>();
  for (const profile of profiles) {
    const byId = new Map(profile.nodes.map((n) => [n.id, n]));
    const parent = new Map<number, ProfileNode>();
    for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node);
    for (const [id, us] of selfTimes(profile)) {
      if (byId.get(id)?.callFrame.functionName !== name) continue;
      const frame = parent.get(id)?.callFrame;
      const caller =
        frame === undefined
          ? '(root)'
          : `${frame.functionName || '(anonymous)'} ${frame.url}:${frame.lineNumber + 1}`;
      byCaller.set(caller, (byCaller.get(caller) ?? 0) + us / 1000);
    }
  }
  return [...byCaller].map(([caller, ms]) => ({ caller, ms })).sort((a, b) => b.ms - a.ms);
}

export async function readProfiles(dir: string): Promise<CpuProfile[]> {
  const files = (await readdir(dir)).filter((f) => f.endsWith('.cpuprofile'));
  return Promise.all(files.map(async (f) => JSON.parse(await readFile(join(dir, f), 'utf8')) as CpuProfile));
}

function table(rows: readonly string[][]): string {
  const widths = (rows[0] ?? []).map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows
    .map((r) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join('  '))
    .join('\n');
}

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      rows: { type: 'string' },
      top: { type: 'string', default: '25' },
      callers: { type: 'string' },
      attribute: { type: 'boolean', default: false },
    },
  });
  const dir = positionals[0];
  if (dir === undefined)
    throw new Error('usage: tsx benchmarks/profile.ts <profile dir> [--rows n] [--top n]');
  const rows = values.rows === undefined ? undefined : Number(values.rows);
  const profiles = await readProfiles(dir);
  if (values.callers !== undefined) {
    console.log(table(callers(profiles, values.callers).map((c) => [c.caller, c.ms.toFixed(0)])));
    return;
  }
  const s = summarize(profiles, values.attribute);
  const busy = s.totalMs - (s.stages.find((x) => x.stage === 'idle')?.ms ?? 0);
  const perRow = (ms: number): string => (rows === undefined ? '' : ((ms * 1000) / rows).toFixed(2));
  const pct = (ms: number): string => `${((100 * ms) / busy).toFixed(1)} %`;
  console.log(`profiled ${s.totalMs.toFixed(0)} ms, ${busy.toFixed(0)} ms not idle\n`);
  console.log(
    table([
      ['stage (self time)', 'ms', '% of busy', rows === undefined ? '' : 'µs/row'],
      ...s.stages.map((x) => [x.stage, x.ms.toFixed(0), x.stage === 'idle' ? '' : pct(x.ms), perRow(x.ms)]),
    ]),
  );
  console.log('');
  console.log(
    table([
      ['function (self time)', 'stage', 'ms', '% of busy'],
      ...s.functions
        .slice(0, Number(values.top))
        .map((f) => [`${f.name} ${f.where}`, f.stage, f.ms.toFixed(0), pct(f.ms)]),
    ]),
  );
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await main();
