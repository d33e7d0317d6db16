/**
 * A protocol adapter turns a batch tensor into a model API call and the answer into class probabilities.
 * HTTP protocols are codecs `{ encode, decode }` over one shared transport; the in-process scorer has no codec.
 */

/** What every scorer does: rows × width float32 features in, rows × labels probabilities out. */
export interface BatchScorer {
  score(tensor: Float32Array, rows: number, signal?: AbortSignal): Promise<Float32Array>;
  /** Releases connections or sessions; pending calls finish first. */
  close(): Promise<void>;
}

export interface HttpRequestSpec {
  path: string;
  headers: Record<string, string>;
  body: string | Uint8Array;
}

export interface HttpResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

/** Encodes one batch as an HTTP request and decodes the response into probabilities. */
export interface HttpCodec {
  readonly name: string;
  encode(tensor: Float32Array, rows: number, width: number): HttpRequestSpec;
  decode(response: HttpResponse, rows: number): Float32Array;
}
