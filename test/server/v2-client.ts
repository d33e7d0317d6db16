/** A small OIP V2 client for the server tests, and a reader of one value from the Prometheus text. */

export interface InferResult {
  status: number;
  headers: Headers;
  body: {
    model_version?: string;
    outputs?: { name: string; shape: number[]; data: number[] }[];
    error?: string;
  };
}

/** POSTs one JSON inference request with a single input tensor. */
export async function infer(
  url: string,
  model: string,
  input: { name: string; datatype: string; shape: number[]; data: number[] },
  init: RequestInit = {},
): Promise<InferResult> {
  const res = await fetch(`${url}/v2/models/${model}/infer`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ inputs: [input] }),
    ...init,
  });
  return { status: res.status, headers: res.headers, body: (await res.json()) as InferResult['body'] };
}

/** The value of a sample in Prometheus text, or 0 when absent: `metric(text, 'x_count', 'model_name="m"')`. */
export function metric(text: string, name: string, labels = ''): number {
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    const [series, value] = line.split(/ (?=[^ ]+$)/);
    if (series !== undefined && series.includes(labels)) return Number(value);
  }
  return 0;
}

/** Model runs so far (the batch-size histogram's count). */
export async function modelRuns(url: string, model: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  return metric(text, 'model_batch_size_rows_count', `model_name="${model}"`);
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
