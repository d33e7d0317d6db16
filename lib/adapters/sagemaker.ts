/**
 * SageMaker inference containers (docs.aws.amazon.com/sagemaker/latest/dg/your-algorithms-batch-code.html):
 * `POST /invocations` with `content-type: application/json` and `{"instances": […]}` (lib/adapters/instances.ts).
 * JSON, not CSV: a container's CSV rows carry raw input columns (DESIGN.md), so a
 * CSV of already-standardized values would be standardized twice. `accept: application/json` asks for
 * `{"predictions": […]}` (a bare list, or `text/csv` rows of probabilities, are read as well).
 */
import type { ModelContract } from '../core/model-contract.js';
import type { HttpCodec } from './types.js';
import { instancesJson, readInstancePredictions } from './instances.js';
import { badResponse, parseJson } from './v2-outputs.js';

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

export function sagemakerCodec(contract: ModelContract, outputs: readonly string[]): HttpCodec {
  return {
    name: 'sagemaker',
    encode(inputs) {
      return {
        path: '/invocations',
        headers: { 'content-type': 'application/json', accept: 'application/json' },
        body: instancesJson(inputs),
      };
    },
    decode(response, rows) {
      const type = String(response.headers['content-type'] ?? '');
      if (type.startsWith('text/csv'))
        return readInstancePredictions(csvRows(response.body.toString('utf8')), rows, contract, outputs);
      const parsed = parseJson(response.body, 'to an invocation');
      const predictions = Array.isArray(parsed) ? parsed : (parsed as { predictions?: unknown }).predictions;
      return readInstancePredictions(predictions, rows, contract, outputs);
    },
  };
}
