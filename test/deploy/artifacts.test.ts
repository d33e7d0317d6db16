// The deployment artifacts in deploy/ stay true to the image and the CLI: every YAML and JSON file parses, the
// Kubernetes manifests validate against the Kubernetes API schemas (kubernetes-models' validators, offline), a
// broken manifest is refused, the Python files compile, every container invocation uses only flags and
// BATCH_INFER_* variables that `batch-infer run` / `serve` define, retry policies use the CLI's exit codes, the
// shell steps the artifacts wrap around the CLI do what they claim when run here, and every file is named in its
// folder's README. test/deploy/score-postgres.test.ts runs the PostgreSQL examples against a real PostgreSQL.
import t, { type Test } from 'tap';
import { execFile } from 'node:child_process';
import { chmod, mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join, relative } from 'node:path';
import { promisify } from 'node:util';
import { parse as parseYaml, parseAllDocuments } from 'yaml';
import { Deployment } from 'kubernetes-models/apps/v1';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2';
import { CronJob, Job } from 'kubernetes-models/batch/v1';
import { PersistentVolumeClaim, Service } from 'kubernetes-models/v1';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { PACKAGE_ROOT } from '../../lib/package-root.js';
import { parseDuration } from '../../lib/core/duration.js';
import { commandHelp, parseCommandArgs, type Command } from '../../bin/cli/command.js';
import { envNames } from '../../bin/cli/config.js';
import { runCommand } from '../../bin/cli/run.js';
import { serveCommand } from '../../bin/cli/serve.js';
import { EXIT_DATA, EXIT_USAGE } from '../../bin/cli/exit-codes.js';
import { startServer, tempDir, WEATHER_CSV } from '../helpers.js';
import { loadDag } from '../support/load-dag.js';

const exec = promisify(execFile);
const DEPLOY = join(PACKAGE_ROOT, 'deploy');
const VERSION = (
  JSON.parse(await readFile(join(PACKAGE_ROOT, 'package.json'), 'utf8')) as { version: string }
).version;

/** Flags the artifacts use that another change is adding to `batch-infer run` (--shard i/N). Once the flag is
 * in runCommand.options it is checked like any other; until then it is tolerated, and said so. */
const PENDING_RUN_FLAGS = new Set(['shard']);

// ---------------------------------------------------------------------------------------------------------------
// Loading

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type Obj = Record<string, Json>;

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const nested = await Promise.all(
    entries.map((e) =>
      e.isDirectory() ? filesUnder(join(dir, e.name)) : Promise.resolve([join(dir, e.name)]),
    ),
  );
  return nested.flat().sort();
}

const files = await filesUnder(DEPLOY);
const rel = (file: string) => relative(PACKAGE_ROOT, file);
const text = (path: string) => readFile(join(DEPLOY, path), 'utf8');

async function yamlDocs(path: string): Promise<Obj[]> {
  return parseAllDocuments(await text(path)).map((d) => d.toJS() as Obj);
}
async function json(path: string): Promise<Obj> {
  return JSON.parse(await text(path)) as Obj;
}

function obj(value: Json | undefined, what: string): Obj {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new Error(`${what}: not an object`);
  return value;
}
function arr(value: Json | undefined, what: string): Json[] {
  if (!Array.isArray(value)) throw new Error(`${what}: not a list`);
  return value;
}
/** A scalar as text (anything else is an error in the artifact). */
function s(value: Json | undefined): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  throw new Error(`expected a scalar, got ${value === undefined ? 'nothing' : JSON.stringify(value)}`);
}
function strings(value: Json | undefined): string[] {
  return Array.isArray(value) ? value.map(String) : [];
}
/** obj at a dotted path, e.g. at(job, 'spec.template.spec'). */
function at(value: Json, path: string): Obj {
  let cur: Json = value;
  for (const key of path.split('.')) cur = obj(cur, path)[key] ?? null;
  return obj(cur, path);
}

const k8s = {
  server: await yamlDocs('kubernetes/server.yaml'),
  storage: await yamlDocs('kubernetes/storage.yaml'),
  job: await yamlDocs('kubernetes/batch-job.yaml'),
  cronjob: await yamlDocs('kubernetes/batch-cronjob.yaml'),
  postgresJob: await yamlDocs('kubernetes/score-postgres-job.yaml'),
};
const manifests = [...k8s.server, ...k8s.storage, ...k8s.job, ...k8s.cronjob, ...k8s.postgresJob];
const byKind = (kind: string): Obj => {
  const found = manifests.find((m) => m.kind === kind);
  if (!found) throw new Error(`no ${kind} in deploy/kubernetes`);
  return found;
};
const deployment = byKind('Deployment');
const service = byKind('Service');
const hpa = byKind('HorizontalPodAutoscaler');
const pvc = byKind('PersistentVolumeClaim');
const job = byKind('Job');
const cronjob = byKind('CronJob');
const jobSpecs: [string, Obj][] = [
  ['Job', at(job, 'spec')],
  ['CronJob', at(cronjob, 'spec.jobTemplate.spec')],
];
/** score-postgres-job.yaml: a PostgreSQL table into another table (issue #17), shards by --shard-by. */
const postgresJob = obj(k8s.postgresJob[0], 'score-postgres-job.yaml');
const postgresJobSpec = at(postgresJob, 'spec');

const component = parseYaml(await text('kubeflow/component.yaml')) as Obj;
const sagemaker = {
  processing: await json('sagemaker/processing-job.json'),
  model: await json('sagemaker/model.json'),
  transform: await json('sagemaker/transform-job.json'),
  endpoint: await json('sagemaker/endpoint-config.json'),
};
const vertex = {
  customJob: parseYaml(await text('vertex/custom-job.yaml')) as Obj,
  upload: await json('vertex/model-upload.json'),
  batch: await json('vertex/batch-prediction-job.json'),
};
const dag = await text('airflow/batch_infer_dag.py');
const postgresDag = await text('airflow/score_postgres_table.py');
const xcomWrapper = await text('airflow/xcom_wrapper.sh');
/** batch_infer_dag.py loaded with stand-ins for Airflow (test/deploy/load_dag.py): what plan_shards returns. */
const loadedDag = await loadDag<{ calls: { expand: Obj | null }[]; constants: Obj }>('batch_infer_dag.py');
const dagShardArgs = arr(obj(loadedDag.calls[0]?.expand ?? null, 'expand').arguments, 'arguments').map(
  strings,
);

// ---------------------------------------------------------------------------------------------------------------
// Kubernetes schema validation

type Validate = (doc: unknown) => void;
function model(Model: new (data: never) => { validate(): void }): Validate {
  return (doc) => {
    new Model(doc as never).validate();
  };
}
const VALIDATORS: Record<string, Validate> = {
  'apps/v1 Deployment': model(Deployment),
  'v1 Service': model(Service),
  'v1 PersistentVolumeClaim': model(PersistentVolumeClaim),
  'autoscaling/v2 HorizontalPodAutoscaler': model(HorizontalPodAutoscaler),
  'policy/v1 PodDisruptionBudget': model(PodDisruptionBudget),
  'batch/v1 Job': model(Job),
  'batch/v1 CronJob': model(CronJob),
};

/** The schema errors of a manifest, or [] when it is valid. */
function validateManifest(doc: Obj): string[] {
  const validate = VALIDATORS[`${s(doc.apiVersion)} ${s(doc.kind)}`];
  if (!validate) return [`no schema for ${s(doc.apiVersion)} ${s(doc.kind)}`];
  try {
    validate(doc);
    return [];
  } catch (err) {
    return [(err as Error).message];
  }
}

const clone = (doc: Obj): Obj => structuredClone(doc);

t.test('every YAML and JSON file in deploy/ parses', async (t) => {
  const data = files.filter((f) => /\.(ya?ml|json)$/.test(f));
  t.ok(data.length >= 10, `${data.length} data files`);
  for (const file of data) {
    const source = await readFile(file, 'utf8');
    if (file.endsWith('.json')) {
      t.doesNotThrow(() => {
        JSON.parse(source);
      }, rel(file));
    } else {
      const docs = parseAllDocuments(source);
      t.same(
        docs.flatMap((d) => d.errors.map((e) => e.message)),
        [],
        `${rel(file)}: ${docs.length} document(s)`,
      );
    }
  }
});

t.test('every deploy/ folder has a README', async (t) => {
  for (const dir of ['', 'kubernetes', 'airflow', 'kubeflow', 'sagemaker', 'vertex']) {
    const readme = join(DEPLOY, dir, 'README.md');
    t.ok((await stat(readme)).size > 500, rel(readme));
  }
});

t.test('every file in deploy/ is named in its folder’s README', async (t) => {
  for (const file of files.filter((f) => !f.endsWith('README.md'))) {
    const folder = relative(DEPLOY, file).split('/')[0] ?? '';
    const readme = await readFile(join(DEPLOY, folder, 'README.md'), 'utf8');
    t.ok(readme.includes(basename(file)), `deploy/${folder}/README.md names ${basename(file)}`);
  }
  const index = await text('README.md');
  for (const name of ['score-postgres-job.yaml', 'score_postgres_table.py'])
    t.ok(index.includes(name), `deploy/README.md names ${name}`);
});

t.test('the Kubernetes manifests validate against the Kubernetes schemas', async (t) => {
  t.equal(manifests.length, 8);
  for (const doc of manifests) {
    const name = s(obj(doc.metadata, 'metadata').name ?? obj(doc.metadata, 'metadata').generateName);
    t.same(validateManifest(doc), [], `${s(doc.kind)} ${name}`);
  }
});

t.test('a broken manifest fails validation', async (t) => {
  const badAction = clone(job);
  arr(at(badAction, 'spec.podFailurePolicy').rules, 'rules')[0] = {
    action: 'Retry',
    onExitCodes: { operator: 'In', values: [EXIT_DATA] },
  };
  t.match(validateManifest(badAction), [/podFailurePolicy\/rules\/0\/action must be equal to one of/]);

  const badType = clone(deployment);
  at(badType, 'spec').replicas = 'two';
  t.match(validateManifest(badType), [/spec\/replicas must be integer/]);

  const noContainers = clone(cronjob);
  delete at(noContainers, 'spec.jobTemplate.spec.template.spec').containers;
  t.match(validateManifest(noContainers), [/must have required property containers/]);

  const badPort = clone(service);
  obj(arr(at(badPort, 'spec').ports, 'ports')[0], 'port').port = '8080';
  t.match(validateManifest(badPort), [/ports\/0\/port must be integer/]);

  const badHpa = clone(hpa);
  delete at(badHpa, 'spec').maxReplicas;
  t.match(validateManifest(badHpa), [/must have required property maxReplicas/]);

  t.match(validateManifest({ apiVersion: 'batch/v2', kind: 'Job' }), [/no schema for batch\/v2 Job/]);
});

// ---------------------------------------------------------------------------------------------------------------
// Kubernetes semantics

const podSpec = (workload: Obj, path: string) => at(workload, path);
const containers = (pod: Obj) => arr(pod.containers, 'containers').map((c) => obj(c, 'container'));
const envOf = (container: Obj): Record<string, string> =>
  Object.fromEntries(
    (Array.isArray(container.env) ? container.env : [])
      .map((e) => obj(e, 'env'))
      .filter((e) => typeof e.value === 'string')
      .map((e) => [s(e.name), s(e.value)]),
  );

t.test('the server Deployment: probes, grace period, security, metrics, Service and HPA', async (t) => {
  const pod = podSpec(deployment, 'spec.template.spec');
  const [server] = containers(pod);
  if (!server) throw new Error('no container');
  t.same(server.args, ['serve']);
  t.equal(obj(at(server, 'livenessProbe').httpGet, 'httpGet').path, '/v2/health/live');
  t.equal(obj(at(server, 'readinessProbe').httpGet, 'httpGet').path, '/v2/health/ready');
  const port = obj(arr(server.ports, 'ports')[0], 'port');
  t.equal(port.containerPort, 8080);

  const env = envOf(server);
  const grace = parseDuration(env.BATCH_INFER_SHUTDOWN_GRACE ?? '10s') ?? NaN;
  const preStop = Number(strings(obj(at(server, 'lifecycle.preStop').exec, 'exec').command)[1] ?? 0) * 1000;
  t.ok(
    Number(pod.terminationGracePeriodSeconds) * 1000 > grace + preStop,
    'terminationGracePeriodSeconds outlasts the preStop sleep plus --shutdown-grace',
  );
  t.equal(at(pod, 'securityContext').runAsNonRoot, true);
  t.equal(at(pod, 'securityContext').runAsUser, 1000, 'the image user node is uid 1000');
  t.equal(at(server, 'securityContext').readOnlyRootFilesystem, true);
  t.ok(at(server, 'resources').requests && at(server, 'resources').limits, 'requests and limits');

  const annotations = at(deployment, 'spec.template.metadata.annotations');
  t.equal(annotations['prometheus.io/scrape'], 'true');
  t.equal(annotations['prometheus.io/port'], s(port.containerPort));
  t.equal(annotations['prometheus.io/path'], '/metrics');

  const podLabels = at(deployment, 'spec.template.metadata.labels');
  for (const [k, v] of Object.entries(at(service, 'spec.selector')))
    t.equal(podLabels[k], v, `Service selects ${k}`);
  t.equal(obj(arr(at(service, 'spec').ports, 'ports')[0], 'port').targetPort, port.name);
  t.equal(at(hpa, 'spec.scaleTargetRef').name, at(deployment, 'metadata').name);
  t.equal(at(hpa, 'spec.scaleTargetRef').kind, 'Deployment');
  t.notOk('replicas' in at(deployment, 'spec'), 'the HPA owns the replica count');
});

t.test('the Indexed Jobs and the CronJob: shards, retries by exit code, storage, server URL', async (t) => {
  const serviceUrl = `http://${s(at(service, 'metadata').name)}:${s(obj(arr(at(service, 'spec').ports, 'ports')[0], 'port').port)}`;
  for (const [what, spec] of [...jobSpecs, ['PostgreSQL Job', postgresJobSpec] as [string, Obj]]) {
    t.equal(spec.completionMode, 'Indexed', what);
    t.ok(Number(spec.backoffLimitPerIndex) >= 1, `${what}: backoffLimitPerIndex`);
    t.ok(Number(spec.parallelism) <= Number(spec.completions), `${what}: parallelism ≤ completions`);
    const pod = at(spec, 'template.spec');
    t.equal(pod.restartPolicy, 'Never', `${what}: podFailurePolicy needs restartPolicy Never`);
    const [container] = containers(pod);
    if (!container) throw new Error('no container');
    // The count the CLI reads beside JOB_COMPLETION_INDEX (bin/cli/run.ts, shardOf).
    const env = envOf(container);
    t.equal(
      env.JOB_COMPLETION_COUNT ?? env.BATCH_INFER_SHARD_COUNT,
      s(spec.completions),
      `${what}: JOB_COMPLETION_COUNT or BATCH_INFER_SHARD_COUNT is completions`,
    );

    const rules = arr(at(spec, 'podFailurePolicy').rules, 'rules').map((r) => obj(r, 'rule'));
    const onExit = (action: string) =>
      rules
        .filter((r) => r.action === action && r.onExitCodes)
        .flatMap((r) => {
          const codes = obj(r.onExitCodes, 'onExitCodes');
          t.equal(codes.containerName, container.name, `${what}: ${action} names the container`);
          t.equal(codes.operator, 'In');
          return arr(codes.values, 'values');
        });
    t.same(onExit('FailJob'), [EXIT_USAGE], `${what}: a usage error (exit ${EXIT_USAGE}) fails the job`);
    t.same(
      onExit('FailIndex'),
      [EXIT_DATA],
      `${what}: bad data (exit ${EXIT_DATA}) fails the shard, no retry`,
    );
    t.ok(
      rules.some(
        (r) =>
          r.action === 'Ignore' &&
          arr(r.onPodConditions ?? [], 'conditions').some((c) => obj(c, 'c').type === 'DisruptionTarget'),
      ),
      `${what}: disruptions are ignored`,
    );

    const args = strings(container.args);
    // The PostgreSQL Job scores in process; the others score against the server.
    if (spec !== postgresJobSpec || args.includes('--url'))
      t.equal(args[args.indexOf('--url') + 1], serviceUrl, `${what}: --url is the server's Service`);
    const volumes = arr(pod.volumes, 'volumes').map((v) => obj(v, 'volume'));
    t.ok(
      volumes.some(
        (v) =>
          v.persistentVolumeClaim &&
          obj(v.persistentVolumeClaim, 'pvc').claimName === at(pvc, 'metadata').name,
      ),
      `${what}: mounts the ${s(at(pvc, 'metadata').name)} claim`,
    );
    t.equal(at(container, 'securityContext').readOnlyRootFilesystem, true);
    t.equal(at(pod, 'securityContext').runAsUser, 1000);
  }
  t.same(at(pvc, 'spec').accessModes, ['ReadWriteMany'], 'shards on several nodes share the volume');
});

t.test('the PostgreSQL Job: --shard-by, append, the password from a Secret and never in a URL', async (t) => {
  const pod = at(postgresJobSpec, 'template.spec');
  const [container] = containers(pod);
  if (!container) throw new Error('no container');
  const args = strings(container.args);
  const after = (flag: string) => args[args.indexOf(flag) + 1];
  t.notOk(args.includes('--shard'), 'the shard comes from JOB_COMPLETION_INDEX and BATCH_INFER_SHARD_COUNT');
  t.ok(after('--shard-by'), '--shard-by <column>');
  t.ok(after('--query') ?? after('--input-table'), '--query or --input-table');
  t.ok(after('--output-table'), '--output-table');
  t.equal(after('--if-exists'), 'append', 'shards append into one table');
  for (const flag of ['--input', '--output']) {
    const url = new URL(after(flag) ?? '');
    t.equal(url.protocol, 'postgres:', `${flag} postgres://`);
    t.equal(url.password, '', `${flag}: no password in the URL`);
  }
  const envs = arr(container.env, 'env').map((e) => obj(e, 'env'));
  const password = envs.find((e) => e.name === 'PGPASSWORD');
  t.ok(password && !('value' in password), 'PGPASSWORD has no literal value');
  t.ok(at(password ?? {}, 'valueFrom.secretKeyRef').name, 'PGPASSWORD comes from a Secret');
  t.notOk(
    envs.some((e) => /^(BATCH_INFER_(INPUT|OUTPUT)|PGPASS)/.test(s(e.name)) && typeof e.value === 'string'),
    'no URL or password in a plain env value',
  );
  // Side files: without them the CLI writes <table>.summary.json to the working directory, /app, read-only.
  const script = strings(container.command)[2] ?? '';
  for (const flag of ['--rejects', '--summary', '--metrics-file'])
    t.match(script, new RegExp(`${flag} "\\$out/\\$part\\.`), `${flag} is named after the shard`);
});

// ---------------------------------------------------------------------------------------------------------------
// The image and the CLI

interface Invocation {
  where: string;
  command: Command;
  /** Every string of the container's command line (shell scripts included), scanned for --flags. */
  texts: string[];
  /** The plain argument list after the subcommand, parsed as the CLI parses it (null when only a script). */
  args: string[] | null;
  env: Record<string, string>;
}

const k8sInvocations: Invocation[] = [
  ...containers(podSpec(deployment, 'spec.template.spec')).map((c) => ({
    where: 'kubernetes/server.yaml',
    command: serveCommand,
    texts: [...strings(c.command), ...strings(c.args)],
    args: strings(c.args).slice(1),
    env: envOf(c),
  })),
  ...[...jobSpecs, ['PostgreSQL Job', postgresJobSpec] as [string, Obj]].flatMap(([what, spec]) =>
    containers(at(spec, 'template.spec')).map((c) => ({
      where: `kubernetes ${what}`,
      command: runCommand,
      texts: [...strings(c.command), ...strings(c.args)],
      args: strings(c.args),
      env: envOf(c),
    })),
  ),
];
const kfpContainer = at(component, 'deploymentSpec.executors.exec-batch-infer.container');
const processingApp = at(sagemaker.processing, 'AppSpecification');
const vertexContainer = obj(
  obj(arr(vertex.customJob.workerPoolSpecs, 'pools')[0], 'pool').containerSpec,
  'spec',
);
const vertexServing = at(vertex.upload, 'model.containerSpec');
const stringEnv = (value: Json | undefined) =>
  Object.fromEntries(Object.entries(value ? obj(value, 'env') : {}).map(([k, v]) => [k, s(v)]));
const listEnv = (value: Json | undefined) =>
  Object.fromEntries(
    (value ? arr(value, 'env') : []).map((e) => [s(obj(e, 'e').name), s(obj(e, 'e').value)]),
  );

const invocations: Invocation[] = [
  ...k8sInvocations,
  {
    where: 'airflow/batch_infer_dag.py',
    command: runCommand,
    texts: [...[...dag.matchAll(/"(--[a-z][a-z0-9-]*)"/g)].map((m) => m[1] ?? ''), xcomWrapper],
    args: null,
    env: {},
  },
  {
    where: 'airflow/score_postgres_table.py',
    command: runCommand,
    texts: [...postgresDag.matchAll(/"(--[a-z][a-z0-9-]*)"/g)].map((m) => m[1] ?? ''),
    // Parsed as the CLI parses them, rendered, in test/deploy/score-postgres.test.ts.
    args: null,
    env: {},
  },
  {
    where: 'kubeflow/component.yaml',
    command: runCommand,
    texts: [...strings(kfpContainer.command), ...strings(kfpContainer.args)],
    args: strings(kfpContainer.args).slice(2),
    env: {},
  },
  {
    where: 'sagemaker/processing-job.json',
    command: runCommand,
    texts: [...strings(processingApp.ContainerEntrypoint), ...strings(processingApp.ContainerArguments)],
    args: strings(processingApp.ContainerArguments),
    env: stringEnv(sagemaker.processing.Environment),
  },
  {
    where: 'sagemaker/model.json',
    command: serveCommand,
    texts: [],
    args: [],
    env: stringEnv(at(sagemaker.model, 'PrimaryContainer').Environment),
  },
  {
    where: 'vertex/custom-job.yaml',
    command: runCommand,
    texts: [...strings(vertexContainer.command), ...strings(vertexContainer.args)],
    args: strings(vertexContainer.args).slice(1),
    env: listEnv(vertexContainer.env),
  },
  {
    where: 'vertex/model-upload.json',
    command: serveCommand,
    texts: strings(vertexServing.args),
    args: strings(vertexServing.args).slice(1),
    env: listEnv(vertexServing.env),
  },
];

const known = (command: Command) => new Set([...Object.keys(command.options), 'config', 'help']);
const pendingFor = (command: Command) =>
  command === runCommand ? [...PENDING_RUN_FLAGS].filter((f) => !(f in command.options)) : [];

t.test('every container invocation uses only flags the CLI defines', async (t) => {
  for (const pending of pendingFor(runCommand))
    t.comment(`--${pending} is not in runCommand yet (being added); tolerated until it is`);
  for (const inv of invocations) {
    const allowed = known(inv.command);
    const pending = pendingFor(inv.command);
    const flags = new Set(
      inv.texts.flatMap((s) => [...s.matchAll(/(?<![\w-])--([a-z][a-z0-9-]*)/g)].map((m) => m[1] ?? '')),
    );
    if (inv.command === runCommand) t.ok(flags.has('output'), `${inv.where}: names an --output`);
    for (const flag of flags)
      t.ok(
        allowed.has(flag) || pending.includes(flag),
        `${inv.where}: batch-infer ${inv.command.name} --${flag}`,
      );
    if (inv.args === null) continue;
    // Parse the plain argument list (and env) exactly as the CLI does: unknown flags are usage errors.
    const args = [...inv.args];
    for (const flag of pending) {
      const i = args.indexOf(`--${flag}`);
      if (i >= 0) args.splice(i, 2);
    }
    let values: Record<string, unknown> = {};
    t.doesNotThrow(
      () => {
        values = parseCommandArgs(inv.command, args, inv.env);
      },
      `${inv.where}: parses as batch-infer ${inv.command.name} ${inv.args.join(' ')}`,
    );
    for (const [flag, value] of Object.entries(values)) {
      const spec = inv.command.options[flag];
      if (typeof value !== 'string' || value.includes('{{') || !spec) continue;
      if (spec.value === '<n>') t.match(value, /^\d+$/, `${inv.where}: --${flag} ${value} is an integer`);
      if (spec.value === '<duration>')
        t.not(parseDuration(value), undefined, `${inv.where}: --${flag} ${value} is a duration`);
      if (flag === 'max-reject-ratio') t.ok(Number(value) >= 0 && Number(value) <= 1, `--${flag} ${value}`);
    }
  }
});

/** The --output values given beside --shard: in a plain argument list, or on one line of a shell script. */
function outputsBesideShard(texts: string[], args: string[] | null): string[] {
  const found: string[] = [];
  if (args?.includes('--shard')) found.push(args[args.indexOf('--output') + 1] ?? '');
  for (const line of texts.flatMap((text) => text.split('\n')))
    if (/(?<![\w-])--shard\s/.test(line))
      for (const m of line.matchAll(/(?<![\w-])--output\s+("[^"]*"|'[^']*'|[^\s;&|]+)/g))
        found.push((m[1] ?? '').replace(/^["']|["']$/g, ''));
  return found;
}

t.test('with --shard, every --output is a directory, not a file: the CLI names the part in it', async (t) => {
  const sharded = [
    ...invocations.map((inv) => [inv.where, outputsBesideShard(inv.texts, inv.args)] as const),
    ...dagShardArgs.map(
      (args, i) => [`airflow/batch_infer_dag.py task ${i}`, outputsBesideShard([], args)] as const,
    ),
  ].filter(([, outputs]) => outputs.length > 0);
  // The Indexed Job, the CronJob, the Vertex CustomJob and the Airflow DAG's tasks at least.
  t.ok(sharded.length >= 3 + dagShardArgs.length, `${sharded.length} invocations with --shard`);
  for (const [where, outputs] of sharded)
    for (const output of outputs) {
      t.notMatch(output, /\.(csv|jsonl?|parquet)$/, `${where}: --output ${output} is not a file`);
      t.notMatch(output, /part-/, `${where}: --output ${output} leaves the part's name to the CLI`);
    }
});

t.test('every BATCH_INFER_* variable in deploy/ is one the CLI reads', async (t) => {
  const names = new Set(
    [runCommand, serveCommand].flatMap((c) =>
      [...Object.entries(c.options), ['config', { type: 'string', description: '' }] as const].flatMap(
        ([flag, spec]) => envNames(flag, spec),
      ),
    ),
  );
  // Not a flag: the shard count beside JOB_COMPLETION_INDEX (bin/cli/run.ts, shardOf; `run --help` names it).
  if (commandHelp(runCommand).includes('BATCH_INFER_SHARD_COUNT')) names.add('BATCH_INFER_SHARD_COUNT');
  for (const file of files) {
    for (const m of (await readFile(file, 'utf8')).matchAll(/\bBATCH_INFER_[A-Z_]+\b/g))
      t.ok(names.has(m[0]), `${rel(file)}: ${m[0]}`);
  }
});

t.test(`every image reference is batch-infer:${VERSION}`, async (t) => {
  const images = [
    ...manifests.flatMap(
      (m) =>
        JSON.stringify(m)
          .match(/"image":"[^"]+"/g)
          ?.map((s) => s.slice(9, -1)) ?? [],
    ),
    s(kfpContainer.image),
    s(processingApp.ImageUri),
    s(at(sagemaker.model, 'PrimaryContainer').Image),
    s(vertexContainer.imageUri),
    s(vertexServing.imageUri),
    ...[...`${dag}\n${postgresDag}`.matchAll(/^IMAGE = "([^"]+)"/gm)].map((m) => m[1] ?? ''),
  ];
  t.equal(images.length, 11);
  for (const image of images)
    t.match(
      image,
      new RegExp(`^([a-z0-9.-]+(:\\d+)?/)*batch-infer:${VERSION.replaceAll('.', '\\.')}$`),
      image,
    );
});

t.test('Airflow: the DAG compiles, maps over shards, and does not retry exits 2 and 65', async (t) => {
  const cache = await tempDir(t);
  for (const file of [
    'airflow/batch_infer_dag.py',
    'airflow/score_postgres_table.py',
    'kubeflow/pipeline.py',
  ]) {
    await t.resolves(
      exec('python3', ['-m', 'py_compile', join(DEPLOY, file)], {
        env: { ...process.env, PYTHONPYCACHEPREFIX: cache },
      }),
      `python3 -m py_compile ${file}`,
    );
  }
  t.match(dag, /KubernetesPodOperator/);
  t.match(dag, /\.partial\(/);
  t.match(dag, /\.expand\(arguments=plan_shards\(\)\)/);
  t.match(dag, /do_xcom_push=True/);
  t.match(dag, /xcom_wrapper\.sh/);
  const codes = /NO_RETRY_EXIT_CODES = frozenset\(\{([\d, ]+)\}\)/.exec(dag)?.[1];
  t.same(
    codes?.split(',').map((c) => Number(c.trim())),
    [EXIT_USAGE, EXIT_DATA],
    'NO_RETRY_EXIT_CODES are the CLI’s usage and bad-data codes',
  );
  t.match(dag, new RegExp(`"usage error" if code == ${EXIT_USAGE}`));
});

t.test(
  'Airflow: the PostgreSQL DAG maps over shards, takes the password from a Secret, no retry of 2 and 65',
  async (t) => {
    t.match(postgresDag, /KubernetesPodOperator/);
    t.match(postgresDag, /\.partial\(/);
    // A list known at parse time: Airflow renders templates in it, not in a task's XCom output.
    t.match(postgresDag, /\.expand\(arguments=\[shard_arguments\(i\) for i in range\(SHARDS\)\]\)/);
    t.match(postgresDag, /secrets=\[Secret\("env", "PGPASSWORD", PASSWORD_SECRET, "password"\)\]/);
    t.notMatch(postgresDag, /\.password\b/, 'the Connection’s password is never rendered into the pod');
    t.match(postgresDag, /"--if-exists",\s+"append"/);
    t.match(postgresDag, /"--shard-by"/);
    const codes = /NO_RETRY_EXIT_CODES = frozenset\(\{([\d, ]+)\}\)/.exec(postgresDag)?.[1];
    t.same(
      codes?.split(',').map((c) => Number(c.trim())),
      [EXIT_USAGE, EXIT_DATA],
      'NO_RETRY_EXIT_CODES are the CLI’s usage and bad-data codes',
    );
  },
);

t.test('Kubeflow: the component wires every placeholder to a declared input or output', async (t) => {
  const spec = at(component, 'components.comp-batch-infer');
  const declared = {
    'inputs.parameters': Object.keys(at(spec, 'inputDefinitions.parameters')),
    'inputs.artifacts': Object.keys(at(spec, 'inputDefinitions.artifacts')),
    'outputs.artifacts': Object.keys(at(spec, 'outputDefinitions.artifacts')),
  };
  const used = strings(kfpContainer.args).flatMap((a) => [
    ...a.matchAll(
      /\{\{\$\.(inputs\.parameters|inputs\.artifacts|outputs\.artifacts)\['([a-z_]+)'\](\.path)?\}\}/g,
    ),
  ]);
  t.ok(used.length >= 8);
  for (const [, kind, name, path] of used) {
    t.ok(
      declared[kind as keyof typeof declared].includes(name ?? ''),
      `${kind ?? ''}['${name ?? ''}'] is declared`,
    );
    if (kind !== 'inputs.parameters')
      t.equal(path, '.path', `${name ?? ''}: artifacts reach the CLI as local paths`);
  }
  for (const output of declared['outputs.artifacts'])
    t.ok(
      used.some((u) => u[2] === output),
      `output ${output} is written`,
    );
  t.equal(spec.executorLabel, 'exec-batch-infer');
  t.match(await text('kubeflow/pipeline.py'), /load_component_from_file\(.*"component\.yaml"/);
});

t.test('SageMaker: Processing, model, Batch Transform and endpoint fit together', async (t) => {
  const input = obj(arr(sagemaker.processing.ProcessingInputs, 'inputs')[0], 'input');
  const s3Input = obj(input.S3Input, 'S3Input');
  const output = obj(
    obj(arr(at(sagemaker.processing, 'ProcessingOutputConfig').Outputs, 'o')[0], 'o').S3Output,
    's3',
  );
  t.equal(s3Input.S3DataDistributionType, 'ShardedByS3Key');
  t.equal(s3Input.LocalPath, '/opt/ml/processing/input');
  t.equal(output.LocalPath, '/opt/ml/processing/output');
  const args = strings(processingApp.ContainerArguments);
  t.ok(
    args[args.indexOf('--input') + 1]?.startsWith(`${s(s3Input.LocalPath)}/`),
    '--input reads the input channel',
  );
  t.ok(
    strings(processingApp.ContainerEntrypoint)
      .join(' ')
      .includes(`--output "${s(output.LocalPath)}/`),
  );
  for (const s of [...strings(processingApp.ContainerEntrypoint), ...args])
    t.ok(s.length <= 256, `AppSpecification strings are at most 256 characters (${s.length})`);

  const model = at(sagemaker.model, 'PrimaryContainer');
  t.equal(
    stringEnv(model.Environment).BATCH_INFER_MODELS,
    '/opt/ml/model',
    'the model tarball is the repository',
  );
  t.equal(sagemaker.transform.ModelName, sagemaker.model.ModelName);
  t.equal(obj(arr(sagemaker.endpoint.ProductionVariants, 'v')[0], 'v').ModelName, sagemaker.model.ModelName);
  const transformInput = at(sagemaker.transform, 'TransformInput');
  t.equal(transformInput.ContentType, 'text/csv');
  t.equal(transformInput.SplitType, 'Line');
  t.equal(sagemaker.transform.BatchStrategy, 'MultiRecord');
  t.ok(
    Number(sagemaker.transform.MaxPayloadInMB) * Number(sagemaker.transform.MaxConcurrentTransforms) <= 100,
  );
  t.equal(
    at(sagemaker.transform, 'TransformOutput').Accept,
    'text/csv',
    'one CSV line per row keeps rows aligned',
  );
  t.equal(at(sagemaker.transform, 'TransformOutput').AssembleWith, 'Line');
});

t.test('Vertex AI: CustomJob shard naming, serving routes, batch prediction model', async (t) => {
  const args = strings(vertexContainer.args);
  t.equal(args[0], 'run');
  t.match(args[args.indexOf('--shard') + 1], /^\d+\/\d+$/, '--shard i/N');
  const output = args[args.indexOf('--output') + 1] ?? '';
  t.notMatch(output, /part-|\.csv$/, '--output is the folder: the CLI names the part in it after the shard');
  t.ok(output.startsWith('/gcs/'), 'Cloud Storage through the /gcs FUSE mount');
  t.ok(
    strings(vertexContainer.command)[2]?.includes(`mkdir -p ${output} `),
    'the command creates the output folder',
  );
  // README.md's loop makes job i from this file by rewriting the shard alone.
  const loop = /sed -e "s#- 0\/4#- \$i\/4#" custom-job\.yaml/;
  t.match(await text('vertex/README.md'), loop, 'the README rewrites the shard only');
  t.equal((await text('vertex/custom-job.yaml')).split('- 0/4').length, 2, 'the shard appears once');
  t.same(vertexServing.ports, [{ containerPort: 8080 }]);
  t.match(s(vertexServing.healthRoute), /^\//);
  t.match(s(vertexServing.predictRoute), /^\//);
  t.equal(
    vertex.batch.model,
    `projects/my-project/locations/us-central1/models/${s(vertex.upload.modelId)}`,
    'the batch job uses the uploaded model id',
  );
  t.equal(at(vertex.batch, 'inputConfig').instancesFormat, 'jsonl', 'records of raw columns, not CSV arrays');
});

// ---------------------------------------------------------------------------------------------------------------
// The shell steps, run here

async function shim(t: Test): Promise<string> {
  const bin = join(await tempDir(t), 'bin');
  await mkdir(bin);
  const cli = join(PACKAGE_ROOT, 'dist', 'bin', 'batch-infer.js');
  await writeFile(join(bin, 'batch-infer'), `#!/bin/sh\nexec "${process.execPath}" "${cli}" "$@"\n`);
  await chmod(join(bin, 'batch-infer'), 0o755);
  return bin;
}
const withPath = (bin: string, env: Record<string, string> = {}) => ({
  env: { ...process.env, PATH: `${bin}:${process.env.PATH ?? ''}`, NODE_OPTIONS: '', ...env },
});
const lines = async (file: string) => (await readFile(file, 'utf8')).trimEnd().split('\n').length;
const WEATHER_ROWS = (await readFile(WEATHER_CSV, 'utf8')).trimEnd().split('\n').length - 1;

t.test('every inline shell script parses (sh -n)', async (t) => {
  const scripts: [string, string][] = [
    ...[...jobSpecs, ['PostgreSQL Job', postgresJobSpec] as [string, Obj]].map(
      ([what, spec]) =>
        [what, strings(containers(at(spec, 'template.spec'))[0]?.command)[2] ?? ''] as [string, string],
    ),
    ['kubeflow', strings(kfpContainer.command)[2] ?? ''],
    ['sagemaker processing', strings(processingApp.ContainerEntrypoint)[2] ?? ''],
    ['vertex custom job', strings(vertexContainer.command)[2] ?? ''],
    ['airflow xcom_wrapper.sh', xcomWrapper],
  ];
  for (const [what, script] of scripts) {
    t.ok(script.includes('exec batch-infer'), `${what}: execs batch-infer, which then gets SIGTERM itself`);
    await t.resolves(exec('sh', ['-n', '-c', script]), `${what}: sh -n`);
  }
});

/** A Job container's shell script, writing under `dir` instead of /data/output and echoing the batch-infer call. */
function echoedScript(container: Obj | undefined, dir: string): string {
  return (strings(container?.command)[2] ?? '')
    .replaceAll('/data/output', join(dir, 'output'))
    .replace('exec batch-infer', 'exec echo batch-infer');
}

t.test('the Kubernetes job scripts pass the run’s folder as --output, with the shard', async (t) => {
  for (const [what, spec] of jobSpecs) {
    const dir = await tempDir(t);
    const [container] = containers(at(spec, 'template.spec'));
    const script = echoedScript(container, dir);
    const { stdout } = await exec('sh', ['-c', script, 'batch-infer', ...strings(container?.args)], {
      env: {
        ...process.env,
        JOB_COMPLETION_INDEX: '2',
        JOB_COMPLETION_COUNT: '4',
        JOB_NAME: 'batch-infer-run-x',
      },
    });
    t.match(
      stdout,
      `batch-infer run --shard 2/4 --output ${join(dir, 'output', 'batch-infer-run-x')} --input`,
      `${what}: --output is the run's folder, not a file in it`,
    );
    t.ok(
      (await stat(join(dir, 'output', 'batch-infer-run-x'))).isDirectory(),
      `${what}: the run folder is created`,
    );
  }
});

t.test(
  'the Kubernetes job scripts, run with the CLI: each shard’s part lands in the run’s folder',
  async (t) => {
    const bin = await shim(t);
    for (const [what, spec] of jobSpecs) {
      const dir = await tempDir(t);
      await mkdir(join(dir, 'input'));
      await writeFile(join(dir, 'input', 'weather.csv'), await readFile(WEATHER_CSV));
      const [container] = containers(at(spec, 'template.spec'));
      const script = (strings(container?.command)[2] ?? '').replaceAll('/data/output', join(dir, 'output'));
      // In process: no server here. The input glob moved under the temporary folder.
      const args = strings(container?.args).map((a) => a.replace('/data/input', join(dir, 'input')));
      args.splice(args.indexOf('--url'), 2);
      const count = Number(spec.completions);
      const run = join(dir, 'output', 'batch-infer-run-x');
      let rows = 0;
      for (let i = 0; i < count; i++) {
        await exec(
          'sh',
          ['-c', script, 'batch-infer', ...args],
          withPath(bin, {
            ...envOf(container ?? {}),
            JOB_COMPLETION_INDEX: String(i),
            JOB_NAME: 'batch-infer-run-x',
          }),
        );
        const part = join(run, `part-${String(i).padStart(5, '0')}-of-${String(count).padStart(5, '0')}`);
        t.ok((await stat(`${part}.csv`)).isFile(), `${what}: ${relative(dir, part)}.csv is a file`);
        for (const side of ['.rejects.csv', '.summary.json'])
          t.ok((await stat(`${part}${side}`)).isFile(), `${what}: ${side} beside it`);
        rows += (await lines(`${part}.csv`)) - 1;
      }
      t.equal(rows, WEATHER_ROWS, `${what}: the ${count} parts hold every row once`);
      t.same(
        (await readdir(run)).filter((f) => f.endsWith('.csv') && !f.endsWith('.rejects.csv')).length,
        count,
        `${what}: one part per shard, all in the run's folder`,
      );
    }
  },
);

t.test('the PostgreSQL Job script names the shard’s side files from its index', async (t) => {
  const dir = await tempDir(t);
  const [container] = containers(at(postgresJobSpec, 'template.spec'));
  const script = echoedScript(container, dir);
  const { stdout } = await exec('sh', ['-c', script, 'batch-infer', ...strings(container?.args)], {
    env: {
      ...process.env,
      ...envOf(container ?? {}),
      JOB_COMPLETION_INDEX: '2',
      JOB_NAME: 'batch-infer-score-postgres-x',
    },
  });
  const part = join(dir, 'output', 'batch-infer-score-postgres-x', 'part-00002-of-00004');
  t.match(
    stdout,
    `batch-infer run --rejects ${part}.rejects.csv --summary ${part}.summary.json --metrics-file ${part}.metrics.prom --input postgres://`,
  );
  t.ok(
    (await stat(join(dir, 'output', 'batch-infer-score-postgres-x'))).isDirectory(),
    'the run folder is created',
  );
});

t.test('the SageMaker entrypoint names each instance’s part from resourceconfig.json', async (t) => {
  const dir = await tempDir(t);
  const config = join(dir, 'resourceconfig.json');
  await writeFile(
    config,
    JSON.stringify({ current_host: 'algo-3', hosts: ['algo-1', 'algo-2', 'algo-3', 'algo-4'] }),
  );
  const script = (strings(processingApp.ContainerEntrypoint)[2] ?? '')
    .replace('/opt/ml/config/resourceconfig.json', config)
    .replace('exec batch-infer', 'exec echo batch-infer');
  const { stdout } = await exec(
    'sh',
    ['-c', script, 'batch-infer', ...strings(processingApp.ContainerArguments)],
    {
      cwd: PACKAGE_ROOT,
    },
  );
  t.match(stdout, 'batch-infer run --output /opt/ml/processing/output/part-00002-of-00004.csv --input');
});

t.test('the Airflow wrapper writes the XCom paths, then runs the CLI', async (t) => {
  const dir = await tempDir(t);
  const bin = await shim(t);
  const xcom = join(dir, 'airflow', 'xcom', 'return.json');
  const output = join(dir, 'output', 'run-1', 'part-00000-of-00001.csv');
  await exec(
    'sh',
    ['-c', xcomWrapper, 'batch-infer', 'run', '--input', WEATHER_CSV, '--output', output],
    withPath(bin, { XCOM_FILE: xcom }),
  );
  const paths = JSON.parse(await readFile(xcom, 'utf8')) as Record<string, string>;
  t.same(paths, {
    output,
    rejects: join(dirname(output), 'part-00000-of-00001.rejects.csv'),
    summary: join(dirname(output), 'part-00000-of-00001.summary.json'),
  });
  t.equal(await lines(output), WEATHER_ROWS + 1, 'every row scored, plus the header');
  for (const path of Object.values(paths)) t.ok((await stat(path)).isFile(), `${path} exists`);

  const failing = exec(
    'sh',
    [
      '-c',
      xcomWrapper,
      'batch-infer',
      'run',
      '--input',
      WEATHER_CSV,
      '--output',
      output,
      '--batch-size',
      'zero',
    ],
    withPath(bin, { XCOM_FILE: xcom }),
  );
  await t.rejects(failing, { code: EXIT_USAGE }, 'the CLI’s exit code reaches the pod (exec)');
});

t.test(
  'the Airflow DAG’s shards, through the wrapper and the CLI: XCom paths are the parts written',
  async (t) => {
    const shards = Number(loadedDag.constants.SHARDS);
    t.equal(dagShardArgs.length, shards, 'one argument list per shard');
    const dir = await tempDir(t);
    const bin = await shim(t);
    const xcom = join(dir, 'airflow', 'xcom', 'return.json');
    const outputRoot = s(loadedDag.constants.OUTPUT_ROOT);
    let rows = 0;
    for (const [i, planned] of dagShardArgs.entries()) {
      t.equal(planned[planned.indexOf('--shard') + 1], `${i}/${shards}`, `task ${i} is shard ${i}/${shards}`);
      t.equal(
        planned[planned.indexOf('--output') + 1],
        `${outputRoot}/manual`,
        `task ${i}: --output is the run's folder`,
      );
      // In process (no server here), the input and output moved under the temporary folder.
      const args = planned
        .map((a) =>
          a === loadedDag.constants.INPUT ? WEATHER_CSV : a.replace(outputRoot, join(dir, 'output')),
        )
        .filter((_, j, all) => all[j] !== '--url' && all[j - 1] !== '--url');
      await exec('sh', ['-c', xcomWrapper, 'batch-infer', ...args], withPath(bin, { XCOM_FILE: xcom }));
      const part = join(
        dir,
        'output',
        'manual',
        `part-${String(i).padStart(5, '0')}-of-${String(shards).padStart(5, '0')}`,
      );
      const paths = JSON.parse(await readFile(xcom, 'utf8')) as Record<string, string>;
      t.same(
        paths,
        { output: `${part}.csv`, rejects: `${part}.rejects.csv`, summary: `${part}.summary.json` },
        `task ${i}: the XCom names the part the CLI writes`,
      );
      for (const path of Object.values(paths))
        t.ok((await stat(path)).isFile(), `${relative(dir, path)} is a file`);
      rows += (await lines(paths.output ?? '')) - 1;
    }
    t.equal(rows, WEATHER_ROWS, 'the parts hold every row once');
  },
);

t.test('the Kubeflow component runs as KFP would run it, in process and against a server', async (t) => {
  const bin = await shim(t);
  const url = await startServer(t);
  for (const server of ['', url]) {
    const dir = await tempDir(t);
    const paths: Record<string, string> = {
      "inputs.artifacts['input_csv'].path": WEATHER_CSV,
      "outputs.artifacts['predictions'].path": join(dir, 'minio', 'predictions'),
      "outputs.artifacts['rejects'].path": join(dir, 'minio', 'rejects'),
      "outputs.artifacts['summary'].path": join(dir, 'minio', 'nested', 'summary'),
      "inputs.parameters['url']": server,
      "inputs.parameters['shard']": '',
      "inputs.parameters['model']": 'weather',
      "inputs.parameters['concurrency']": '4',
      "inputs.parameters['max_reject_ratio']": '1.0',
    };
    const argv = [...strings(kfpContainer.command), ...strings(kfpContainer.args)].map((a) =>
      a.replace(/\{\{\$\.(.+?)\}\}/g, (_, key: string) => {
        const value = paths[key];
        if (value === undefined) throw new Error(`unknown placeholder ${key}`);
        return value;
      }),
    );
    const [shell, ...rest] = argv;
    await exec(shell ?? 'sh', rest, withPath(bin));
    t.equal(
      await lines(join(dir, 'minio', 'predictions')),
      WEATHER_ROWS + 1,
      `${server || 'in process'}: all rows`,
    );
    const summary = JSON.parse(await readFile(join(dir, 'minio', 'nested', 'summary'), 'utf8')) as {
      rows: { scored: number };
      protocol: string;
    };
    t.equal(summary.rows.scored, WEATHER_ROWS);
    t.equal(summary.protocol === 'local', server === '', `protocol ${summary.protocol}`);
  }
});
