/** The repository API calls the fine-tuning tests make: a load with a config override, and what is served. */
import { infer } from '../server/v2-client.js';

export const ROW = {
  name: 'features',
  datatype: 'FP32',
  shape: [1, 6],
  data: [0.5, -0.2, 0.1, 0.3, 0.7, -0.7],
};

/** `POST /v2/repository/models/{m}/load`, with `config` (an object, or raw text) as the override when given. */
export async function load(
  url: string,
  token: string,
  config?: unknown,
  model = 'weather',
): Promise<{ status: number; body: { error?: string; versions?: string[] } }> {
  const res = await fetch(`${url}/v2/repository/models/${model}/load`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    ...(config === undefined
      ? {}
      : {
          body: JSON.stringify({
            parameters: { config: typeof config === 'string' ? config : JSON.stringify(config) },
          }),
        }),
  });
  return { status: res.status, body: (await res.json()) as { error?: string; versions?: string[] } };
}

/**
 * The versions a server lists for a model, and the version answering a request that names none — as it
 * answers, and as its metadata reports it (`properties.version`): `answers` is given only when the two agree.
 */
export async function served(
  url: string,
  model = 'weather',
): Promise<{ versions: string[]; answers: string }> {
  const meta = (await (await fetch(`${url}/v2/models/${model}`)).json()) as {
    versions: string[];
    properties: { version: string };
  };
  const answer = await infer(url, model, ROW);
  const answers = answer.body.model_version ?? `status ${answer.status}`;
  return {
    versions: meta.versions,
    answers:
      answers === meta.properties.version ? answers : `${answers}, reported ${meta.properties.version}`,
  };
}
