/**
 * The server's Prometheus metrics, named as shared/research/monitoring.md §8.1 recommends (OTel-aligned, base
 * units, bounded labels). One registry per server, so two servers in one process (tests) never collide.
 */
import { collectDefaultMetrics, Counter, exponentialBuckets, Gauge, Histogram, Registry } from 'prom-client';
import { StatisticsRegistry } from './inference/statistics.js';

const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

export interface ServerMetrics {
  registry: Registry;
  requestDuration: Histogram<'http_request_method' | 'http_route' | 'http_response_status_code'>;
  predictions: Counter<'model_name' | 'model_version'>;
  predictionErrors: Counter<'model_name' | 'model_version' | 'reason'>;
  inferenceDuration: Histogram<'model_name'>;
  queueDuration: Histogram<'model_name'>;
  batchSize: Histogram<'model_name'>;
  inflight: Gauge<'model_name'>;
  /**
   * A model's in-flight request count, read into `model_inflight_requests` at each scrape: the engines add and
   * subtract here, a plain number, rather than through the gauge's label lookup twice per request.
   */
  inflightOf(model: string): { n: number };
  /**
   * Counts rows into `model_predictions_total{model_name, model_version}`, added to the counter at each scrape
   * (for the fast inference path, which would otherwise pay the counter's label lookup per request).
   */
  rowsCounter(model: string, version: string): (rows: number) => void;
  modelInfo: Gauge<'model_name' | 'model_version' | 'model_sha256'>;
  /** Per model version counts for Triton's statistics extension (`GET /v2/models/stats`), kept by the engines. */
  statistics: StatisticsRegistry;
}

export function createServerMetrics(): ServerMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const inflightCells = new Map<string, { n: number }>();
  const rowCells = new Map<string, { labels: { model_name: string; model_version: string }; rows: number }>();
  const rowCounters = new Map<string, (rows: number) => void>();
  const predictions = new Counter({
    name: 'model_predictions_total',
    help: 'Rows scored by the model.',
    labelNames: ['model_name', 'model_version'],
    registers: [registry],
    collect() {
      for (const cell of rowCells.values()) {
        if (cell.rows === 0) continue;
        this.inc(cell.labels, cell.rows);
        cell.rows = 0;
      }
    },
  });
  return {
    registry,
    requestDuration: new Histogram({
      name: 'http_server_request_duration_seconds',
      help: 'Duration of HTTP requests handled by the model server.',
      labelNames: ['http_request_method', 'http_route', 'http_response_status_code'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10],
      registers: [registry],
    }),
    predictions,
    predictionErrors: new Counter({
      name: 'model_prediction_errors_total',
      help: 'Inference requests that failed, by reason.',
      labelNames: ['model_name', 'model_version', 'reason'],
      registers: [registry],
    }),
    inferenceDuration: new Histogram({
      name: 'model_inference_duration_seconds',
      help: 'Time spent inside the model (onnxruntime) per run; a dynamic batch is one run.',
      labelNames: ['model_name'],
      buckets: LATENCY_BUCKETS,
      registers: [registry],
    }),
    queueDuration: new Histogram({
      name: 'model_queue_duration_seconds',
      help: 'Time a request waited in its model queue (dynamic batching) before its run started.',
      labelNames: ['model_name'],
      buckets: LATENCY_BUCKETS,
      registers: [registry],
    }),
    batchSize: new Histogram({
      name: 'model_batch_size_rows',
      help: 'Rows per model run; its _count is the number of runs, so rows per run shows how well batching works.',
      labelNames: ['model_name'],
      buckets: exponentialBuckets(1, 2, 13),
      registers: [registry],
    }),
    inflight: new Gauge({
      name: 'model_inflight_requests',
      help: 'Inference requests queued or running, per model.',
      labelNames: ['model_name'],
      registers: [registry],
      collect() {
        for (const [model, cell] of inflightCells) this.set({ model_name: model }, cell.n);
      },
    }),
    inflightOf(model) {
      let cell = inflightCells.get(model);
      if (cell === undefined) inflightCells.set(model, (cell = { n: 0 }));
      return cell;
    },
    rowsCounter(model, version) {
      const key = `${model}\n${version}`;
      let count = rowCounters.get(key);
      if (count === undefined) {
        const cell = { labels: { model_name: model, model_version: version }, rows: 0 };
        rowCells.set(key, cell);
        count = (rows) => {
          cell.rows += rows;
        };
        rowCounters.set(key, count);
      }
      return count;
    },
    modelInfo: new Gauge({
      name: 'model_info',
      help: 'Model versions being served (value 1), with the SHA-256 of their model.onnx.',
      labelNames: ['model_name', 'model_version', 'model_sha256'],
      registers: [registry],
    }),
    statistics: new StatisticsRegistry(),
  };
}
