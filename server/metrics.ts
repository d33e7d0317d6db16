/**
 * The server's Prometheus metrics, named as shared/research/monitoring.md §8.1 recommends (OTel-aligned, base
 * units, bounded labels). One registry per server, so two servers in one process (tests) never collide.
 */
import { collectDefaultMetrics, Counter, Histogram, Registry } from 'prom-client';

export interface ServerMetrics {
  registry: Registry;
  requestDuration: Histogram<'http_request_method' | 'http_route' | 'http_response_status_code'>;
  predictions: Counter<'model_name' | 'model_version'>;
  predictionErrors: Counter<'model_name' | 'model_version' | 'reason'>;
  inferenceDuration: Histogram<'model_name'>;
}

export function createServerMetrics(): ServerMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  return {
    registry,
    requestDuration: new Histogram({
      name: 'http_server_request_duration_seconds',
      help: 'Duration of HTTP requests handled by the model server.',
      labelNames: ['http_request_method', 'http_route', 'http_response_status_code'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10],
      registers: [registry],
    }),
    predictions: new Counter({
      name: 'model_predictions_total',
      help: 'Rows scored by the model.',
      labelNames: ['model_name', 'model_version'],
      registers: [registry],
    }),
    predictionErrors: new Counter({
      name: 'model_prediction_errors_total',
      help: 'Inference requests that failed, by reason.',
      labelNames: ['model_name', 'model_version', 'reason'],
      registers: [registry],
    }),
    inferenceDuration: new Histogram({
      name: 'model_inference_duration_seconds',
      help: 'Time spent inside the model (onnxruntime) per request.',
      labelNames: ['model_name'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    }),
  };
}
