/**
 * `batch-infer promote`: make a model version the one a running server answers with, only if it earns it.
 *
 * 1. Stage: if the server does not serve the challenger yet, load it next to the champion through the
 *    repository API, the champion staying the default (`default_version`), so no client sees a change.
 * 2. Champion/challenger: score every labelled `--check` file once with both versions (each batch to both),
 *    through the server, and compare them (lib/core/compare.ts): deltas with paired bootstrap intervals.
 * 3. Judge every check (`<metric>:<min-delta>:<file>`: the challenger's metric must be at least the champion's
 *    plus min-delta). All hold: load again with the challenger as `default_version` — one atomic reload, no
 *    request dropped, the champion kept loaded for a rollback. Any fails: put the server back as it was and
 *    exit 1 naming the checks that failed.
 */
import { writeFile } from 'node:fs/promises';
import { basename, extname } from 'node:path';
import { BatchInferError, ErrorCodes, show } from '../../lib/errors.js';
import { comparisonMarkdown, type ModelComparison } from '../../lib/core/compare.js';
import { compareVersions } from '../../lib/evaluate.js';
import type { ModelConfig } from '../../lib/model-files.js';
import { fetchModelMetadata } from '../../lib/model-source.js';
import { EXIT_FAILURE, EXIT_OK } from './exit-codes.js';
import { int, list, str, usageError, type Command } from './command.js';
import { stylesFor } from './terminal.js';

const METRICS = ['accuracy', 'macro_f1'] as const;
type CheckMetric = (typeof METRICS)[number];

/** A promotion criterion: on `file`, challenger `metric` ≥ champion `metric` + `minDelta`. */
interface Check {
  metric: CheckMetric;
  minDelta: number;
  file: string;
}

/** `macro_f1:+0.05:new-york-2015.csv` → a check; the file comes last so that its path may hold colons. */
function parseCheck(text: string): Check {
  const match = /^([a-z_0-9]+):([+-]?\d+(?:\.\d+)?):(.+)$/.exec(text);
  const metric = match?.[1] as CheckMetric | undefined;
  if (match === null || metric === undefined || !METRICS.includes(metric))
    throw usageError(
      `--check must be <metric>:<min-delta>:<file> with metric ${METRICS.join(' or ')}, e.g. macro_f1:+0.05:labelled.csv; got "${text}"`,
    );
  return { metric, minDelta: Number(match[2]), file: match[3] as string };
}

/** Each check against the comparison (whose sets are named after the files), with the figures behind it. */
function judge(comparison: ModelComparison, checks: readonly Check[]): { ok: boolean; lines: string[] } {
  let ok = true;
  const lines = checks.map((check) => {
    const set = basename(check.file, extname(check.file));
    const delta = comparison.sets.find((s) => s.name === set)?.deltas.find((d) => d.metric === check.metric);
    if (delta === undefined) throw new Error(`no ${check.metric} for ${set} in the comparison`);
    const holds = delta.delta >= check.minDelta;
    ok &&= holds;
    const signed = (x: number) => `${x >= 0 ? '+' : '−'}${Math.abs(x).toFixed(4)}`;
    return (
      `${holds ? 'pass' : 'FAIL'}  ${set} ${check.metric}: ${delta.champion.toFixed(4)} → ${delta.challenger.toFixed(4)} ` +
      `(Δ ${signed(delta.delta)}, 95 % interval [${signed(delta.interval[0])}, ${signed(delta.interval[1])}]), ` +
      `required Δ ≥ ${signed(check.minDelta)}`
    );
  });
  return { ok, lines };
}

/** The server's model metadata: the versions it serves, and the default one when it says (`properties.version`). */
async function servedVersions(
  url: string,
  model: string,
): Promise<{ versions: number[]; reported?: number }> {
  const meta = await fetchModelMetadata(url, model);
  const versions = Array.isArray(meta.versions) ? meta.versions.map(Number).filter(Number.isInteger) : [];
  const reported = Number(meta.properties?.version);
  return { versions, ...(Number.isInteger(reported) ? { reported } : {}) };
}

/** `POST /v2/repository/models/{m}/load` with a config override, as Triton takes it. */
async function load(url: string, model: string, token: string, config: ModelConfig): Promise<void> {
  const { request } = await import('undici'); // not loaded by the other commands
  const response = await request(`${url}/v2/repository/models/${encodeURIComponent(model)}/load`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ parameters: { config: JSON.stringify(config) } }),
  });
  const body = (await response.body.json().catch(() => ({}))) as { error?: unknown };
  if (response.statusCode !== 200)
    throw new BatchInferError(
      ErrorCodes.HTTP_STATUS,
      `Loading ${show(model)} with ${JSON.stringify(config)} was answered ${response.statusCode}: ${show(body.error ?? '')}`,
      { context: { model, status: response.statusCode } },
    );
}

function servedConfig(versions: Iterable<number>, defaultVersion: number): ModelConfig {
  return {
    version_policy: { specific: { versions: [...new Set(versions)].sort((a, b) => a - b) } },
    default_version: defaultVersion,
  };
}

export const promoteCommand: Command = {
  name: 'promote',
  summary:
    'Champion/challenger checks through a running server, then make the challenger the default version only if every check holds.',
  options: {
    url: { type: 'string', value: '<url>', description: 'Model server base URL. Required.' },
    model: { type: 'string', short: 'm', value: '<name>', description: 'Model name.', default: 'weather' },
    version: {
      type: 'string',
      value: '<n>',
      description: 'The challenger: the version to promote. Required.',
    },
    champion: {
      type: 'string',
      value: '<n>',
      description:
        'The version serving now. Required unless the server reports its default version (model metadata properties.version).',
      default: "the server's default version",
    },
    check: {
      type: 'string',
      multiple: true,
      value: '<metric>:<min-delta>:<file>',
      description:
        "A criterion on a labelled CSV: the challenger's accuracy or macro_f1 must be at least the champion's plus min-delta (negative: the loss tolerated). Repeat for several; at least one.",
    },
    'admin-token': {
      type: 'string',
      value: '<token>',
      description: "The server's admin token, for the repository API (prefer the environment variable).",
    },
    report: { type: 'string', value: '<file>', description: 'Also write the comparison as Markdown.' },
    'report-json': {
      type: 'string',
      value: '<file>',
      description: 'Also write the comparison as JSON (the ModelComparison type).',
    },
    'dry-run': {
      type: 'boolean',
      description: 'Judge the checks but leave the server as it was, even when they hold.',
    },
  },
  examples: [
    'batch-infer promote --url http://127.0.0.1:8080 --version 2 --champion 1 --check macro_f1:+0.05:new-york-2015.csv --check accuracy:-0.02:seattle-2015.csv',
    'BATCH_INFER_ADMIN_TOKEN=… batch-infer promote --url http://model-server:8080 --version 3 --check accuracy:0:holdout.csv --dry-run',
  ],
  async run(values, io) {
    const url = str(values, 'url')?.replace(/\/$/, '');
    if (url === undefined) throw usageError('--url is required: promotion happens on a running server');
    const challenger = int(values, 'version', 1);
    if (challenger === undefined) throw usageError('--version is required (the version to promote)');
    const checks = list(values, 'check').map(parseCheck);
    if (checks.length === 0)
      throw usageError('--check is required: at least one criterion on a labelled file');
    const names = checks.map((c) => basename(c.file, extname(c.file)));
    if (new Set(names).size !== names.length)
      throw usageError(
        '--check files must have distinct names: the comparison names each set after its file',
      );
    const token = str(values, 'admin-token');
    if (token === undefined) throw usageError('--admin-token is required (or BATCH_INFER_ADMIN_TOKEN)');
    const model = str(values, 'model') ?? 'weather';

    const served = await servedVersions(url, model);
    const champion = int(values, 'champion', 1) ?? served.reported;
    if (champion === undefined)
      throw usageError('--champion is required: the server does not report which version answers by default');
    if (served.reported !== undefined && served.reported !== champion)
      throw usageError(
        `--champion ${champion} is not the version the server answers with (${served.reported})`,
      );
    if (!served.versions.includes(champion))
      throw usageError(
        `The server does not serve version ${champion} of ${show(model)} (it serves ${served.versions.join(', ')})`,
      );
    if (challenger === champion) throw usageError(`Version ${challenger} is the champion already`);
    const staged = !served.versions.includes(challenger);
    const restore = servedConfig(served.versions, champion);
    if (staged) {
      await load(url, model, token, servedConfig([...served.versions, challenger], champion));
      io.logger.info({ model, challenger, champion }, `staged ${model} v${challenger} beside v${champion}`);
    }

    let verdict: { ok: boolean; lines: string[] };
    // On a terminal with colour: a check that holds green, one that fails red, the outcome likewise.
    const style = stylesFor(io.stdout, io.env);
    try {
      const comparison = await compareVersions({
        inputs: checks.map((c) => c.file),
        model,
        champion,
        challenger,
        url,
        signal: io.signal,
      });
      const markdown = comparisonMarkdown(comparison);
      const reportPath = str(values, 'report');
      const jsonPath = str(values, 'report-json');
      if (reportPath !== undefined) await writeFile(reportPath, markdown);
      if (jsonPath !== undefined) await writeFile(jsonPath, `${JSON.stringify(comparison, null, 2)}\n`);
      verdict = judge(comparison, checks);
      const checkLines = verdict.lines.map(
        (l) => `- ${l.startsWith('pass') ? style.green(l) : style.red(l)}`,
      );
      io.stdout.write(`${markdown}\n## Checks\n\n${checkLines.join('\n')}\n\n`);
    } catch (err) {
      if (staged) await load(url, model, token, restore);
      throw err;
    }

    if (!verdict.ok || values['dry-run'] === true) {
      if (staged) await load(url, model, token, restore);
      const what = verdict.ok ? 'every check holds (dry run)' : 'a check failed';
      const kept = `${model} v${champion} stays the default${staged ? `; v${challenger} was unloaded again` : ''}`;
      io.stdout.write(`${(verdict.ok ? style.yellow : style.red)(`Not promoted: ${what}.`)} ${kept}.\n`);
      if (verdict.ok) return EXIT_OK;
      io.stderr.write(
        `batch-infer promote: refused to promote ${model} v${challenger}: ${verdict.lines.filter((l) => l.startsWith('FAIL')).join('; ')}\n`,
      );
      return EXIT_FAILURE;
    }
    await load(url, model, token, servedConfig([...served.versions, challenger], challenger));
    io.stdout.write(
      `${style.green(`Promoted ${model} v${challenger}:`)} it now answers requests that name no version; v${champion} stays loaded for a rollback.\n`,
    );
    return EXIT_OK;
  },
};
