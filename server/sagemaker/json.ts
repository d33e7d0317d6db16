/**
 * JSON bodies of SageMaker `/invocations`: `{"instances": […]}` (the form SageMaker's own framework containers
 * and Vertex AI take) or a bare list of instances; `application/jsonlines`: one instance per line, as Batch
 * Transform sends with `SplitType=Line`. Instances are raw records or feature arrays (records.ts).
 */
import { BatchInferError, ErrorCodes } from '../../lib/errors.js';
import type { ModelContract } from '../../lib/core/model-contract.js';
import { parseJson } from '../http/body.js';
import { instanceFeatures, instanceRows } from '../records.js';

export function jsonRows(body: Buffer, contract: ModelContract): Float32Array[] {
  const value = parseJson(body);
  if (Array.isArray(value)) return instanceRows(contract, value);
  const instances = (value as { instances?: unknown } | null)?.instances;
  if (!Array.isArray(instances)) {
    throw new BatchInferError(
      ErrorCodes.BAD_REQUEST,
      'A JSON body must be {"instances": [...]} or a list of instances',
    );
  }
  return instanceRows(contract, instances);
}

export function jsonLinesRows(body: Buffer, contract: ModelContract): Float32Array[] {
  const rows: Float32Array[] = [];
  body
    .toString('utf8')
    .split('\n')
    .forEach((text, i) => {
      if (text.trim() === '') return;
      let instance: unknown;
      try {
        instance = JSON.parse(text);
      } catch (err) {
        throw new BatchInferError(
          ErrorCodes.BAD_REQUEST,
          `Line ${i + 1}: not valid JSON: ${(err as Error).message}`,
        );
      }
      rows.push(instanceFeatures(contract, instance, `Line ${i + 1}`));
    });
  return rows;
}
