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

/**
 * Polls the server's /metrics until a sample reaches `value`: a wait on the server's own state, which a loaded
 * machine makes longer but never wrong. The guard only turns a hang into a clear failure.
 */
export async function untilMetric(url: string, name: string, labels: string, value: number): Promise<void> {
  const guard = Date.now() + 60_000;
  while (metric(await (await fetch(`${url}/metrics`)).text(), name, labels) < value) {
    if (Date.now() > guard) throw new Error(`${name}{${labels}} never reached ${value}`);
    await sleep(10);
  }
}

/** Resolves once the wall clock (`Date.now()`, the clock of request deadlines) has passed `epochMs`. */
export async function sleepUntil(epochMs: number): Promise<void> {
  while (Date.now() <= epochMs) await sleep(epochMs - Date.now() + 1);
}
