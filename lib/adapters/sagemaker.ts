/**
 * SageMaker inference containers (docs.aws.amazon.com/sagemaker/latest/dg/your-algorithms-batch-code.html):
 * `POST /invocations` with `content-type: text/csv`, one row of model-ready feature values per line and no
 * header, as built-in algorithms such as XGBoost take them; `accept: application/json` asks for
 * `{"predictions": [[p…], …]}` (a bare list, or `text/csv` rows of probabilities, are read as well).
 */
import type { ModelContract } from '../core/model-contract.js';
import type { HttpCodec } from './types.js';
import { readPredictions } from './predictions.js';
import { badResponse, parseJson } from './v2-outputs.js';

/** Features as CSV: String() of a float32's double is the shortest text that reads back to the same float32. */
export function featuresCsv(tensor: Float32Array, rows: number, width: number): string {
  let out = '';
  for (let i = 0; i < rows; i++)
    out += Array.from(tensor.subarray(i * width, (i + 1) * width)).join(',') + '\n';
  return out;
}

function csvRows(text: string): number[][] {
  return text
    .split(/\r?\n/)
    .filter((line) => line.trim() !== '')
    .map((line) =>
      line.split(',').map((cell) => {
        const v = Number(cell);
        if (cell.trim() === '' || !Number.isFinite(v))
          badResponse(`Model server answered CSV with ${JSON.stringify(cell)}`);
        return v;
      }),
    );
}

export function sagemakerCodec(contract: ModelContract): HttpCodec {
  return {
    name: 'sagemaker',
    encode(tensor, rows, width) {
      return {
        path: '/invocations',
        headers: { 'content-type': 'text/csv', accept: 'application/json' },
        body: featuresCsv(tensor, rows, width),
      };
    },
    decode(response, rows) {
      const type = String(response.headers['content-type'] ?? '');
      if (type.startsWith('text/csv'))
        return readPredictions(csvRows(response.body.toString('utf8')), rows, contract.labels);
      const parsed = parseJson(response.body, 'to an invocation');
      const predictions = Array.isArray(parsed) ? parsed : (parsed as { predictions?: unknown }).predictions;
      return readPredictions(predictions, rows, contract.labels);
    },
  };
}
