/**
 * A protocol adapter turns a batch's input tensors into a model API call and the answer into output tensors
 * (lib/core/tensor.ts): the same named tensors whatever the model, so an adapter written for one model works for
 * any. HTTP protocols are codecs `{ encode, decode }` over one shared transport; the in-process scorer has none.
 */
import type { Tensor } from '../core/tensor.js';

/** What every scorer does: the model's inputs in (the same number of rows each), the outputs it was made for out. */
export interface BatchScorer {
  score(inputs: Tensor[], signal?: AbortSignal): Promise<Tensor[]>;
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

/** Encodes one batch as an HTTP request and decodes the response into output tensors of `rows` rows. */
export interface HttpCodec {
  readonly name: string;
  encode(inputs: readonly Tensor[]): HttpRequestSpec;
  decode(response: HttpResponse, rows: number): Tensor[];
}
