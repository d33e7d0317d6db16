/**
 * What `batch-infer serve` prints on a terminal once its models are loaded (issue #19): where it listens,
 * the models and versions it serves, its routes by protocol, and how to stop it. Machines get the JSON
 * lines (`listening on …`, `models loaded`) instead.
 */
import { formatDuration } from './progress.js';
import type { Styles } from './terminal.js';

export interface ServedModelInfo {
  name: string;
  /** Versions served; empty when the server did not say. */
  versions: string[];
  /** The version that answers requests naming none. */
  defaultVersion?: string;
}

export interface ServeBannerInput {
  url: string;
  /** Where the Open Inference Protocol gRPC service listens (`host:port`), if it does. */
  grpc?: string;
  models: ServedModelInfo[];
  /** The model behind the SageMaker and Vertex AI routes. */
  defaultModel: string | undefined;
  routes: { method: string; path: string }[];
  inferenceToken: boolean;
  adminToken: boolean;
  graceMs: number;
}

/** `/v2/models/:model/infer` → `/v2/models/{model}/infer`, as docs/openapi.yaml writes it. */
const template = (path: string): string => path.replace(/:([a-z_]+)/g, '{$1}');

function modelLine(m: ServedModelInfo): string {
  if (m.versions.length === 0) return m.name;
  const versions = m.versions.map((v) => `v${v}`).join(', ');
  const answering =
    m.versions.length > 1 && m.defaultVersion !== undefined ? ` (v${m.defaultVersion} by default)` : '';
  return `${m.name} ${versions}${answering}`;
}

export function formatServeBanner(input: ServeBannerInput, style: Styles): string {
  const isV2 = (p: string): boolean => p.startsWith('/v2') && !p.startsWith('/v2/repository');
  const isSageMaker = (p: string): boolean => ['/ping', '/invocations', '/execution-parameters'].includes(p);
  const isProbe = (p: string): boolean => p === '/v2/health/live' || p === '/v2/health/ready';
  const isVertex = (p: string): boolean => !p.startsWith('/v2') && !isSageMaker(p) && p !== '/metrics';
  // Requests first (POST), then the GETs, each as `METHOD /path`.
  const of = (kind: (path: string) => boolean): string =>
    input.routes
      .filter((r) => kind(r.path))
      .sort((a, b) => (a.method === b.method ? 0 : a.method === 'POST' ? -1 : 1))
      .map((r) => `${r.method} ${template(r.path)}`)
      .join(', ');
  const infer = input.routes.filter((r) => r.method === 'POST' && isV2(r.path) && r.path.endsWith('/infer'));
  const versioned = infer.find((r) => r.path.includes('/versions/'));
  // `POST /v2/models/{model}/infer` and its `/versions/{version}/` twin, in one.
  const v2 =
    versioned !== undefined && infer.length === 2
      ? `POST ${template(versioned.path).replace(/(\/versions\/\{version\})/, '[$1]')}`
      : infer.map((r) => `POST ${template(r.path)}`).join(', ');
  const behind = input.defaultModel === undefined ? '' : ` → ${input.defaultModel}`;
  const protocols: [string, string][] = [
    [v2, 'Open Inference Protocol V2'],
    [of(isSageMaker), `SageMaker${behind}`],
    [of(isVertex), `Vertex AI${behind}`],
  ];
  const shown = protocols.filter(([routes]) => routes !== '');
  const width = Math.max(...shown.map(([routes]) => routes.length));
  const models =
    input.models.length === 0 ? style.yellow('none loaded') : input.models.map(modelLine).join(' · ');
  const lines: [string, string][] = [['models', models]];
  shown.forEach(([routes, name], i) =>
    lines.push([i === 0 ? 'infer' : '', `${routes.padEnd(width)}  ${style.dim(name)}`]),
  );
  if (input.grpc !== undefined)
    lines.push([
      'grpc',
      `${input.grpc}  ${style.dim('inference.GRPCInferenceService (Open Inference Protocol)')}`,
    ]);
  lines.push(['health', of(isProbe)]);
  if (input.routes.some((r) => r.path === '/metrics')) lines.push(['metrics', 'GET /metrics']);
  if (input.routes.some((r) => r.path.startsWith('/v2/repository')))
    lines.push([
      'admin',
      `POST /v2/repository/…  ${style.dim(input.adminToken ? 'with the admin token' : 'refused: no --admin-token')}`,
    ]);
  if (input.inferenceToken)
    lines.push(['token', 'all but the health routes want Authorization: Bearer <the inference token>']);
  lines.push(['stop', `Ctrl-C (requests in flight get up to ${formatDuration(input.graceMs)} to finish)`]);
  return [
    `${style.bold('batch-infer serve:')} listening on ${style.green(input.url)}`,
    ...lines.map(([label, text]) => `  ${style.dim(label.padEnd(8))} ${text}`),
    '',
  ].join('\n');
}
