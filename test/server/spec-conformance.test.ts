import t, { type Test } from 'tap';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Ajv, type ValidateFunction } from 'ajv';
import { parse as parseYaml } from 'yaml';
import { PACKAGE_ROOT } from '../../lib/package-root.js';
import { v2JsonCodec } from '../../lib/adapters/v2-json.js';
import { readModelVersion, BUNDLED_MODELS_DIR } from '../../lib/model-files.js';
import { startServer } from '../helpers.js';

// The official Open Inference Protocol OpenAPI document: every response the server gives, and every request
// the pipeline sends, must validate against its component schemas.
const spec = parseYaml(
  await readFile(join(PACKAGE_ROOT, 'test', 'fixtures', 'spec', 'open_inference_rest.yaml'), 'utf8'),
) as {
  components: { schemas: Record<string, object> };
};
const ajv = new Ajv({ strict: false, allErrors: true });
ajv.addSchema({ components: spec.components }, 'oip');
const schema = (name: string): ValidateFunction => ajv.compile({ $ref: `oip#/components/schemas/${name}` });

function valid(t: Test, validate: ValidateFunction, body: unknown, what: string): void {
  const ok = validate(body);
  t.ok(ok, `${what} matches the spec${ok ? '' : `: ${ajv.errorsText(validate.errors)}`}`);
}

t.test('server responses match the OIP schemas', async (t) => {
  const url = await startServer(t);
  valid(t, schema('metadata_server_response'), await (await fetch(`${url}/v2`)).json(), 'server metadata');
  for (const path of ['/v2/models/weather', '/v2/models/weather/versions/1']) {
    valid(
      t,
      schema('metadata_model_response'),
      await (await fetch(url + path)).json(),
      `model metadata ${path}`,
    );
  }
  const infer = await fetch(`${url}/v2/models/weather/versions/1/infer`, {
    method: 'POST',
    body: JSON.stringify({
      id: 'a',
      inputs: [
        {
          name: 'features',
          shape: [2, 6],
          datatype: 'FP32',
          data: [
            [1, 2, 3, 4, 5, 6],
            [0, 0, 0, 0, 0, 0],
          ],
        },
      ],
    }),
  });
  valid(t, schema('inference_response'), await infer.json(), 'inference response');
  const error = await fetch(`${url}/v2/models/weather/infer`, {
    method: 'POST',
    body: '{"inputs":[{"name":"features"}]}',
  });
  t.equal(error.status, 400);
  valid(t, schema('inference_error_response'), await error.json(), 'inference error');
  const unknown = await fetch(`${url}/v2/models/nope`);
  t.equal(unknown.status, 404);
  valid(t, schema('metadata_model_error_response'), await unknown.json(), 'model metadata error');
});

t.test('the pipeline’s v2-json requests match the inference_request schema', async (t) => {
  const { contract } = await readModelVersion(BUNDLED_MODELS_DIR, 'weather');
  const request = v2JsonCodec(contract, undefined, ['probabilities']).encode([
    {
      name: 'features',
      datatype: 'FP32',
      shape: [2, 6],
      data: Float32Array.of(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12),
    },
  ]);
  valid(
    t,
    schema('inference_request'),
    JSON.parse(Buffer.from(request.body).toString()),
    'inference request',
  );
});
