// The PostgreSQL examples in deploy/ run here as their orchestrators would run them, against a real PostgreSQL
// (test/support/postgres.ts) and the real CLI:
// - kubernetes/score-postgres-job.yaml: each pod's command, arguments and environment as the manifest gives
//   them, JOB_COMPLETION_INDEX set as Kubernetes sets it, PGPASSWORD from the Secret as the kubelet would; all
//   shards at once into a table that does not exist yet, every row exactly once; a failed shard commits
//   nothing and its retry appends its rows once; why --if-exists append (fail refuses the second shard); the
//   table created beforehand by a run of no rows; --shard-by without a shard count refused;
// - airflow/score_postgres_table.py: loaded with stand-ins for Airflow (test/deploy/load_dag.py), its mapped
//   arguments rendered as Airflow renders the connection and run id templates, each shard run with the
//   password from the Secret.
import t from 'tap';
import { execFile } from 'node:child_process';
import { chmod, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parse as parseCsv } from 'csv-parse/sync';
import { parse as parseYaml } from 'yaml';
import { PACKAGE_ROOT } from '../../lib/package-root.js';
import { parseCommandArgs } from '../../bin/cli/command.js';
import { runCommand } from '../../bin/cli/run.js';
import { EXIT_DATA, EXIT_USAGE } from '../../bin/cli/exit-codes.js';
import { tempDir } from '../helpers.js';
import { loadDag } from '../support/load-dag.js';
import { loadWeatherTable, startPostgres, SKIP_WITHOUT_POSTGRES } from '../support/postgres.js';

const exec = promisify(execFile);
const DEPLOY = join(PACKAGE_ROOT, 'deploy');
// Two dozen CLI runs, four at a time.
t.setTimeout(600_000);

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj => v as Obj;
const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const strings = (v: unknown): string[] => list(v).map(String);

// ---------------------------------------------------------------------------------------------------------------
// The artifacts

const job = obj(parseYaml(await readFile(join(DEPLOY, 'kubernetes', 'score-postgres-job.yaml'), 'utf8')));
const jobSpec = obj(job.spec);
const pod = obj(obj(jobSpec.template).spec);
const container = obj(list(pod.containers)[0]);
const script = strings(container.command)[2] ?? '';
const podArgs = strings(container.args);
const envList = list(container.env).map(obj);
const plainEnv = Object.fromEntries(
  envList.filter((e) => typeof e.value === 'string').map((e) => [String(e.name), String(e.value)]),
);
const manifestUrl = podArgs[podArgs.indexOf('--input') + 1] ?? '';

const loaded = await loadDag('score_postgres_table.py');
const score = loaded.calls[0];
const dagArguments = list(score?.expand?.arguments).map(strings);
const connId = String(loaded.constants.CONN_ID);

t.test(
  'the Airflow task: mapped over literal shards, the connection by template, the password from a Secret',
  async (t) => {
    t.equal(loaded.calls.length, 1);
    t.equal(score?.operator, 'BatchInferPodOperator');
    const shards = Number(loaded.constants.SHARDS);
    t.equal(dagArguments.length, shards, 'one mapped task per shard');
    t.same(loaded.constants.NO_RETRY_EXIT_CODES, [EXIT_USAGE, EXIT_DATA]);
    t.same(obj(list(score?.partial.secrets)[0]), {
      __type__: 'Secret',
      args: ['env', 'PGPASSWORD', loaded.constants.PASSWORD_SECRET, 'password'],
      kwargs: {},
    });
    t.notOk('env_vars' in (score?.partial ?? {}), 'no password in env_vars (they are in the pod spec)');
    t.notMatch(JSON.stringify(loaded), /\.password/, 'the Connection’s password is never rendered');
    dagArguments.forEach((args, i) => {
      t.equal(args[0], 'run');
      t.equal(args[args.indexOf('--shard') + 1], `${i}/${shards}`, `task ${i} is shard ${i}/${shards}`);
      t.equal(args[args.indexOf('--if-exists') + 1], 'append');
      t.ok(args.includes('--shard-by'));
      // Every side file is named after the shard: the default would be the working directory, read-only.
      for (const flag of ['--rejects', '--summary', '--metrics-file'])
        t.match(args[args.indexOf(flag) + 1], `part-0000${i}-of-0000${shards}.`, `${flag} names shard ${i}`);
      t.doesNotThrow(() => parseCommandArgs(runCommand, args.slice(1), {}), `task ${i} parses`);
    });
  },
);

// ---------------------------------------------------------------------------------------------------------------
// Running them

/** data/weather.csv as the table `weather`, with an id and two NULL precipitations (rejected rows). */

/** `batch-infer` on PATH: the CLI from source, as test/cli/spawn-cli.ts runs it. */
async function cliOnPath(dir: string): Promise<string> {
  const bin = join(dir, 'bin');
  await mkdir(bin);
  const cli = join(PACKAGE_ROOT, 'bin', 'batch-infer.ts');
  await writeFile(
    join(bin, 'batch-infer'),
    `#!/bin/sh\nexec "${process.execPath}" --import "${import.meta.resolve('tsx')}" "${cli}" "$@"\n`,
  );
  await chmod(join(bin, 'batch-infer'), 0o755);
  return bin;
}

interface Exit {
  code: number;
  stdout: string;
  stderr: string;
}
async function run(
  file: string,
  args: string[],
  options: { cwd: string; env: NodeJS.ProcessEnv },
): Promise<Exit> {
  try {
    const { stdout, stderr } = await exec(file, args, { ...options, maxBuffer: 64 * 1024 * 1024 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: unknown; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

interface Summary {
  rows: { read: number; scored: number; rejected: number };
  output: string;
}

t.test('against PostgreSQL', { skip: SKIP_WITHOUT_POSTGRES }, async (t) => {
  const pg = await startPostgres(t);
  const total = await loadWeatherTable(pg, 'weather');
  const scoredRows = total - 2;
  const dir = await tempDir(t);
  const bin = await cliOnPath(dir);
  // The pods' working directory (/app in the image, read-only): nothing may be written there.
  const workdir = join(dir, 'app');
  await mkdir(workdir);
  const url = pg.url({ password: null });
  t.notMatch(url, pg.password);

  /** One pod of the Job: its script, arguments and environment, as the kubelet would start it. */
  const runPod = (
    index: number,
    options: { table?: string; extraArgs?: string[]; dropArgs?: string[]; jobName?: string } = {},
  ): Promise<Exit> => {
    const jobName = options.jobName ?? 'batch-infer-score-postgres-x1';
    let args = podArgs.map((a) =>
      a === manifestUrl ? url : a === 'weather_predictions' && options.table ? options.table : a,
    );
    for (const flag of options.dropArgs ?? []) {
      const i = args.indexOf(flag);
      args = [...args.slice(0, i), ...args.slice(i + 2)];
    }
    return run(
      'sh',
      [
        '-c',
        script.replaceAll('/data/output', join(dir, 'output')),
        'batch-infer',
        ...args,
        ...(options.extraArgs ?? []),
      ],
      {
        cwd: workdir,
        env: {
          ...process.env,
          NODE_OPTIONS: '',
          PATH: `${bin}:${process.env.PATH ?? ''}`,
          ...plainEnv,
          JOB_COMPLETION_INDEX: String(index),
          JOB_NAME: jobName,
          PGPASSWORD: pg.password,
        },
      },
    );
  };
  const shards = Number(jobSpec.completions);
  const indexes = [...Array(shards).keys()];
  const part = (i: number) => `part-${String(i).padStart(5, '0')}-of-${String(shards).padStart(5, '0')}`;
  const summaries = async (jobName: string) =>
    Promise.all(
      indexes.map(
        async (i) =>
          JSON.parse(
            await readFile(join(dir, 'output', jobName, `${part(i)}.summary.json`), 'utf8'),
          ) as Summary,
      ),
    );
  const counts = async (table: string) =>
    (await pg.sql(`SELECT count(*)::int, count(DISTINCT id)::int FROM ${table}`))[0];

  t.test('the Job: every shard at once into a new table, every row exactly once', async (t) => {
    const exits = await Promise.all(indexes.map((i) => runPod(i)));
    exits.forEach((e, i) => t.equal(e.code, 0, e.code === 0 ? `shard ${i} exit 0` : e.stderr));
    t.same(await counts('weather_predictions'), [scoredRows, scoredRows], 'every scored row once');
    const shardSummaries = await summaries('batch-infer-score-postgres-x1');
    const sum = (key: 'read' | 'scored' | 'rejected') => shardSummaries.reduce((n, s) => n + s.rows[key], 0);
    t.same([sum('read'), sum('scored'), sum('rejected')], [total, scoredRows, 2], 'read = scored + rejected');
    t.ok(
      shardSummaries.every((s) => s.rows.read > total / shards / 2),
      `the rows spread over the shards: ${shardSummaries.map((s) => s.rows.read).join(', ')}`,
    );
    const rejected = (
      await Promise.all(
        indexes.map(async (i) =>
          parseCsv<{ id: string }>(
            await readFile(
              join(dir, 'output', 'batch-infer-score-postgres-x1', `${part(i)}.rejects.csv`),
              'utf8',
            ),
            { columns: true },
          ),
        ),
      )
    ).flat();
    t.same(rejected.map((r) => r.id).sort(), ['1000', '7'], 'the rejects, with their id');
    t.same(await readdir(workdir), [], 'nothing written to the working directory');
    const everything = JSON.stringify([exits, shardSummaries]);
    t.notMatch(everything, pg.password, 'the password is in no log line and no summary');
    t.same(
      (
        await pg.sql(
          `SELECT column_name FROM information_schema.columns WHERE table_name = 'weather_predictions' ORDER BY ordinal_position`,
        )
      )
        .flat()
        .slice(0, 4),
      ['id', 'location', 'date', 'prediction'],
      'the kept columns, then the prediction',
    );
  });

  t.test('a failed shard commits nothing; its retry appends its rows once', async (t) => {
    // --max-reject-ratio 0: the shards holding a NULL precipitation fail (exit 65) after scoring their rows.
    const first = await Promise.all(
      indexes.map((i) =>
        runPod(i, { table: 'retried', jobName: 'retried', extraArgs: ['--max-reject-ratio', '0'] }),
      ),
    );
    const failed = indexes.filter((i) => first[i]?.code !== 0);
    t.ok(failed.length >= 1 && failed.length <= 2, `shards ${failed.join(', ')} failed`);
    for (const i of failed) {
      t.equal(first[i]?.code, EXIT_DATA, `shard ${i} exit 65`);
      t.match(first[i]?.stderr, /BI_ERR_TOO_MANY_REJECTS/);
    }
    const succeeded = indexes.filter((i) => first[i]?.code === 0);
    const committed = (
      await Promise.all(
        succeeded.map(
          async (i) =>
            (
              JSON.parse(
                await readFile(join(dir, 'output', 'retried', `${part(i)}.summary.json`), 'utf8'),
              ) as Summary
            ).rows.scored,
        ),
      )
    ).reduce((a, b) => a + b, 0);
    t.same(
      await counts('retried'),
      [committed, committed],
      'only the shards that succeeded have rows in the table',
    );
    // The retry: the same pod again, as backoffLimitPerIndex runs it.
    for (const i of failed) {
      const retry = await runPod(i, { table: 'retried', jobName: 'retried' });
      t.equal(retry.code, 0, retry.code === 0 ? `shard ${i} retried: exit 0` : retry.stderr);
    }
    t.same(await counts('retried'), [scoredRows, scoredRows], 'every scored row once');
  });

  t.test('--if-exists fail (the default) refuses every shard but the first', async (t) => {
    const first = await runPod(0, { table: 'failing', jobName: 'failing', dropArgs: ['--if-exists'] });
    t.equal(first.code, 0, first.code === 0 ? 'shard 0 creates the table' : first.stderr);
    const second = await runPod(1, { table: 'failing', jobName: 'failing', dropArgs: ['--if-exists'] });
    t.equal(second.code, 1);
    t.match(second.stderr, /BI_ERR_TABLE_EXISTS/);
  });

  t.test('a run of no rows creates the table beforehand, with the columns the shards write', async (t) => {
    const query = podArgs[podArgs.indexOf('--query') + 1] ?? '';
    const create = await run(
      join(bin, 'batch-infer'),
      [
        'run',
        '--input',
        url,
        '--query',
        `${query} WHERE false`,
        '--output',
        url,
        '--output-table',
        'precreated',
        '--columns',
        podArgs[podArgs.indexOf('--columns') + 1] ?? '',
        '--summary',
        join(dir, 'precreated.summary.json'),
        '--rejects',
        join(dir, 'precreated.rejects.csv'),
        '--metrics-file',
        join(dir, 'precreated.metrics.prom'),
      ],
      { cwd: dir, env: { ...process.env, NODE_OPTIONS: '', PGPASSWORD: pg.password } },
    );
    t.equal(create.code, 0, create.code === 0 ? 'exit 0' : create.stderr);
    const columns = (table: string) =>
      pg.sql(
        `SELECT column_name, data_type FROM information_schema.columns WHERE table_name = $1 ORDER BY ordinal_position`,
        [table],
      );
    t.same(await columns('precreated'), await columns('weather_predictions'), 'the same columns and types');
    t.same(await counts('precreated'), [0, 0]);
    const exits = await Promise.all(
      indexes.map((i) => runPod(i, { table: 'precreated', jobName: 'precreated' })),
    );
    exits.forEach((e, i) => t.equal(e.code, 0, e.code === 0 ? `shard ${i} exit 0` : e.stderr));
    t.same(await counts('precreated'), [scoredRows, scoredRows]);
  });

  t.test('--shard-by without a shard count is refused, not run over every row', async (t) => {
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      NODE_OPTIONS: '',
      ...plainEnv,
      JOB_COMPLETION_INDEX: '1',
      PGPASSWORD: pg.password,
    };
    delete env.BATCH_INFER_SHARD_COUNT;
    const args = podArgs.map((a) => (a === manifestUrl ? url : a === 'weather_predictions' ? 'never' : a));
    const refused = await run(join(bin, 'batch-infer'), ['run', ...args], { cwd: dir, env });
    t.equal(refused.code, EXIT_USAGE);
    t.match(refused.stderr, /shard/i);
    t.same(await pg.sql(`SELECT to_regclass('never') IS NULL`), [[true]], 'no table');
  });

  t.test('the Airflow task: each mapped shard, rendered, into one table', async (t) => {
    const runId = 'scheduled__2024-01-01T03:00:00+00:00';
    const fields: Record<string, string> = {
      login: pg.user,
      host: pg.host,
      port: String(pg.port),
      schema: pg.database,
    };
    // The templates the DAG uses, rendered as Airflow would: `conn.<id>.<field>`, `| urlencode`, `or <default>`.
    const render = (text: string) =>
      text.replace(/\{\{\s*(.+?)\s*\}\}/g, (_, expr: string) => {
        if (expr === 'run_id') return runId;
        const m = /^conn\.(\w+)\.(\w+)(?:\s*\|\s*urlencode|\s+or\s+\d+)?$/.exec(expr);
        const value = m && m[1] === connId ? fields[m[2] ?? ''] : undefined;
        if (value === undefined) throw new Error(`a template this test does not know: {{ ${expr} }}`);
        return expr.includes('urlencode') ? encodeURIComponent(value) : value;
      });
    const exits = await Promise.all(
      dagArguments.map((args) =>
        run(
          join(bin, 'batch-infer'),
          args.map((a) => render(a).replaceAll('/data/output', join(dir, 'output'))),
          {
            cwd: workdir,
            // The Secret, mounted as the operator's `secrets` says.
            env: { ...process.env, NODE_OPTIONS: '', PGPASSWORD: pg.password },
          },
        ),
      ),
    );
    exits.forEach((e, i) => t.equal(e.code, 0, e.code === 0 ? `task ${i} exit 0` : e.stderr));
    // The DAG writes the table the Job wrote above: a second run of the whole thing appends every row again.
    t.equal(loaded.constants.OUTPUT_TABLE, 'weather_predictions');
    t.same(
      await counts('weather_predictions'),
      [2 * scoredRows, scoredRows],
      'each row once more: a rerun of every shard appends again',
    );
    const files = await readdir(join(dir, 'output', 'score_postgres_table', runId));
    t.equal(
      files.filter((f) => f.endsWith('.summary.json')).length,
      dagArguments.length,
      'a summary per shard',
    );
    t.same(await readdir(workdir), [], 'nothing written to the working directory');
    t.notMatch(JSON.stringify(exits), pg.password);
  });
});
