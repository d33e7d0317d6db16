/**
 * The gRPC descriptor modules are what scripts/grpc-descriptors.ts makes of server/grpc/proto/ today, and the
 * client's Open Inference Protocol service is wire-compatible with the Triton service the server serves: every
 * method the protocol defines is there with the same types, and every field of every message it uses has the
 * same number, type and label — so any Open Inference Protocol client can talk to `batch-infer serve`. (The one
field Triton's copy lacks, ModelMetadataResponse's `properties`, the generator adds to the server's.)
 */
import t from 'tap';
import { readFile } from 'node:fs/promises';
import { descriptorOf, MODULES, moduleSource } from '../../scripts/grpc-descriptors.js';
import { TRITON_GRPC_DESCRIPTOR } from '../../server/grpc/descriptor.js';

t.test('the descriptor modules are up to date with the .proto files', async (t) => {
  for (const module of MODULES) {
    t.equal(
      await readFile(module.path, 'utf8'),
      await moduleSource(module),
      `${module.path} (regenerate: npx tsx scripts/grpc-descriptors.ts)`,
    );
  }
});

interface Namespace {
  nested?: Record<string, Namespace>;
  fields?: Record<string, { id: number; type: string; rule?: string; keyType?: string }>;
  methods?: Record<string, { requestType: string; responseType: string; requestStream?: boolean }>;
}

/** Every message and service of a descriptor by its full name (`inference.ModelInferRequest.InferInputTensor`). */
function byName(root: object, prefix = '', out = new Map<string, Namespace>()): Map<string, Namespace> {
  for (const [name, child] of Object.entries((root as Namespace).nested ?? {})) {
    const full = prefix === '' ? name : `${prefix}.${name}`;
    out.set(full, child);
    byName(child, full, out);
  }
  return out;
}

t.test("the protocol's service is a wire-compatible subset of the server's", async (t) => {
  const oip = byName(descriptorOf(['open_inference_grpc.proto']));
  const triton = byName(TRITON_GRPC_DESCRIPTOR);
  let fields = 0;
  for (const [name, definition] of oip) {
    const other = triton.get(name);
    if (definition.methods !== undefined) {
      for (const [method, signature] of Object.entries(definition.methods))
        t.same(other?.methods?.[method], signature, `${name}.${method}`);
    }
    for (const [field, spec] of Object.entries(definition.fields ?? {})) {
      t.same(other?.fields?.[field], spec, `${name}.${field}`);
      fields++;
    }
  }
  t.ok(fields > 50, `${fields} fields compared`);
});
