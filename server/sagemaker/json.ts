/**
 * JSON bodies of SageMaker `/invocations`: `{"instances": […]}` (the form SageMaker's own framework containers
 * and Vertex AI take) or a bare list of instances; `application/jsonlines`: one instance per line, as Batch
 * Transform sends with `SplitType=Line`. Instances are raw records or feature arrays (records.ts).
 */
import { BatchInferError, ErrorCodes } from '../../lib/errors.js';
import type { InputPlan } from '../../lib/core/input-plan.js';
import { parseJson } from '../http/body.js';
import { jsonInstance, jsonInstances, type Instance } from '../records.js';

export function jsonRows(body: Buffer, plan: InputPlan): Instance[] {
  const value = parseJson(body);
  if (Array.isArray(value)) return jsonInstances(plan, value);
  const instances = (value as { instances?: unknown } | null)?.instances;
  if (!Array.isArray(instances)) {
    throw new BatchInferError(
      ErrorCodes.BAD_REQUEST,
      'A JSON body must be {"instances": [...]} or a list of instances',
    );
  }
  return jsonInstances(plan, instances);
}

export function jsonLinesRows(body: Buffer, plan: InputPlan): Instance[] {
  const rows: Instance[] = [];
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
      rows.push(jsonInstance(plan, instance, `Line ${i + 1}`));
    });
  return rows;
}
