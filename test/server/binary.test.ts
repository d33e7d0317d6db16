import t from 'tap';
import { startServer } from '../helpers.js';

const ROWS = [
  [0.5, -0.2, 0.1, 0.3, 0.7, -0.7],
  [-1.2, 0.4, 2.0, -0.3, 0.0, 1.1],
];
const features = Float32Array.from(ROWS.flat());

interface Output {
  name: string;
  datatype: string;
  shape: number[];
  data?: number[];
  parameters?: { binary_data_size?: number };
}
interface Decoded {
  status: number;
  headerLength: string | null;
  contentType: string | null;
  header: { id?: string; model_name?: string; outputs?: Output[]; error?: string };
  blobs: Buffer[];
}

/** A request body in the binary tensor format: the JSON header, then the blobs. */
function binaryBody(header: unknown, ...blobs: Uint8Array[]): { body: Buffer; headerLength: number } {
  const json = Buffer.from(JSON.stringify(header));
  return { body: Buffer.concat([json, ...blobs]), headerLength: json.length };
}

const bytes = (a: Float32Array) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

async function post(
  url: string,
  body: Buffer | string,
  headers: Record<string, string> = {},
): Promise<Decoded> {
  const res = await fetch(`${url}/v2/models/weather/infer`, { method: 'POST', headers, body });
  const buf = Buffer.from(await res.arrayBuffer());
  const headerLength = res.headers.get('inference-header-content-length');
  const jsonEnd = headerLength === null ? buf.length : Number(headerLength);
  const header = JSON.parse(buf.subarray(0, jsonEnd).toString('utf8')) as Decoded['header'];
  const blobs: Buffer[] = [];
  let offset = jsonEnd;
  for (const o of header.outputs ?? []) {
    const size = o.parameters?.binary_data_size;
    if (size === undefined) continue;
    blobs.push(buf.subarray(offset, offset + size));
    offset += size;
  }
  if (offset !== buf.length) throw new Error(`response has ${buf.length - offset} stray bytes`);
  return { status: res.status, headerLength, contentType: res.headers.get('content-type'), header, blobs };
}

async function postBinary(url: string, header: unknown, ...blobs: Uint8Array[]): Promise<Decoded> {
  const { body, headerLength } = binaryBody(header, ...blobs);
  return post(url, body, {
    'content-type': 'application/octet-stream',
    'inference-header-content-length': String(headerLength),
  });
}

const asFloat32 = (blob: Buffer) =>
  new Float32Array(blob.buffer.slice(blob.byteOffset, blob.byteOffset + blob.length));

const binaryInput = {
  name: 'features',
  shape: [2, 6],
  datatype: 'FP32',
  parameters: { binary_data_size: features.byteLength },
};
const jsonInput = { name: 'features', shape: [2, 6], datatype: 'FP32', data: ROWS };

t.test('server metadata lists binary_tensor_data', async (t) => {
  const url = await startServer(t);
  const meta = (await (await fetch(`${url}/v2`)).json()) as { extensions: string[] };
  t.ok(meta.extensions.includes('binary_tensor_data'));
});

t.test('binary request and binary response equal the JSON answer exactly', async (t) => {
  const url = await startServer(t);
  const json = await post(url, JSON.stringify({ inputs: [jsonInput] }), {
    'content-type': 'application/json',
  });
  t.equal(json.status, 200);
  t.equal(json.headerLength, null, 'a JSON response has no Inference-Header-Content-Length');
  const expected = Float32Array.from(json.header.outputs?.[0]?.data ?? []);
  t.equal(expected.length, 10);

  const res = await postBinary(
    url,
    {
      id: 'b-1',
      inputs: [binaryInput],
      outputs: [{ name: 'probabilities', parameters: { binary_data: true } }],
    },
    bytes(features),
  );
  t.equal(res.status, 200);
  t.equal(res.contentType, 'application/octet-stream');
  t.equal(res.header.id, 'b-1');
  t.equal(res.header.model_name, 'weather');
  t.same(res.header.outputs, [
    { name: 'probabilities', datatype: 'FP32', shape: [2, 5], parameters: { binary_data_size: 40 } },
  ]);
  t.same(asFloat32(res.blobs[0]!), expected, 'bit-identical to the JSON result');
});

t.test('JSON input with binary_data_output, and binary input with JSON output', async (t) => {
  const url = await startServer(t);
  const reference = await postBinary(
    url,
    { inputs: [binaryInput], parameters: { binary_data_output: true } },
    bytes(features),
  );
  t.equal(reference.status, 200);
  t.equal(reference.header.outputs?.[0]?.parameters?.binary_data_size, 40);

  const mixed = await post(
    url,
    JSON.stringify({ inputs: [jsonInput], parameters: { binary_data_output: true } }),
    {
      'content-type': 'application/json',
    },
  );
  t.equal(mixed.status, 200);
  t.equal(mixed.contentType, 'application/octet-stream');
  t.ok(Number(mixed.headerLength) > 0);
  t.same(asFloat32(mixed.blobs[0]!), asFloat32(reference.blobs[0]!));

  // `binary_data: false` on an output overrides `binary_data_output: true`.
  const jsonOut = await postBinary(
    url,
    {
      inputs: [binaryInput],
      parameters: { binary_data_output: true },
      outputs: [{ name: 'probabilities', parameters: { binary_data: false } }],
    },
    bytes(features),
  );
  t.equal(jsonOut.status, 200);
  t.equal(jsonOut.headerLength, null);
  t.match(jsonOut.contentType, /application\/json/);
  t.same(Float32Array.from(jsonOut.header.outputs?.[0]?.data ?? []), asFloat32(reference.blobs[0]!));
});

t.test('raw binary request: the body is the only input, batch 1, outputs binary', async (t) => {
  const url = await startServer(t);
  const row = features.subarray(0, 6);
  const res = await post(url, Buffer.from(bytes(row)), {
    'content-type': 'application/octet-stream',
    'inference-header-content-length': '0',
  });
  t.equal(res.status, 200);
  t.same(res.header.outputs?.[0]?.shape, [1, 5]);
  const full = await postBinary(
    url,
    { inputs: [binaryInput], parameters: { binary_data_output: true } },
    bytes(features),
  );
  t.same(asFloat32(res.blobs[0]!), asFloat32(full.blobs[0]!).subarray(0, 5));

  const short = await post(url, Buffer.alloc(20), { 'inference-header-content-length': '0' });
  t.equal(short.status, 400);
  t.match(short.header.error, /has 20 bytes of binary data, but shape \[1,6\] of FP32 needs 24/);
});

t.test('sizes that do not add up are refused with 400', async (t) => {
  const url = await startServer(t);
  const withSize = (size: number) => ({
    inputs: [{ ...binaryInput, parameters: { binary_data_size: size } }],
  });
  const cases: [string, () => Promise<Decoded>, RegExp][] = [
    [
      'size smaller than the shape needs',
      () => postBinary(url, withSize(44), bytes(features).subarray(0, 44)),
      /has 44 bytes of binary data, but shape \[2,6\] of FP32 needs 48/,
    ],
    [
      'size past the end of the body',
      () => postBinary(url, withSize(48), bytes(features).subarray(0, 40)),
      /runs past the end of the body/,
    ],
    [
      'bytes left over after the inputs',
      () => postBinary(url, withSize(48), bytes(features), Buffer.alloc(4)),
      /52 bytes of binary data .* add up to 48/,
    ],
    [
      'binary_data_size without the header',
      () => post(url, JSON.stringify(withSize(48))),
      /Inference-Header-Content-Length missing/,
    ],
    [
      'negative size',
      () => postBinary(url, withSize(-4)),
      /binary_data_size` must be a non-negative integer/,
    ],
    [
      'data and binary_data_size together',
      () =>
        postBinary(
          url,
          { inputs: [{ ...jsonInput, parameters: { binary_data_size: 48 } }] },
          bytes(features),
        ),
      /not both/,
    ],
    [
      'header length past the body',
      () => post(url, '{}', { 'inference-header-content-length': '99' }),
      /is 99 but the body has only 2 bytes/,
    ],
    [
      'header length not an integer',
      () => post(url, '{}', { 'inference-header-content-length': 'ten' }),
      /must be a non-negative integer/,
    ],
    [
      'binary_data not a boolean',
      () =>
        postBinary(
          url,
          { inputs: [binaryInput], outputs: [{ name: 'probabilities', parameters: { binary_data: 'yes' } }] },
          bytes(features),
        ),
      /`binary_data` must be a boolean/,
    ],
  ];
  for (const [name, send, message] of cases) {
    const res = await send();
    t.equal(res.status, 400, name);
    t.match(res.header.error, message, name);
  }
});
