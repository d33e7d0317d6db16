/**
 * The CSV batch reader must decide exactly as the reader → Preprocessor → Batcher chain it replaces for a single
 * CSV input: same batches (rows, lines, row numbers, values, features), same rejects and reasons, same raw
 * values for the profiles, same errors; for any bytes and any chunking. Property-based over inputs made of
 * plain lines and every kind of line the plain reader must hand over (quotes, CR, bad bytes, blank lines).
 */
import t from 'tap';
import fc from 'fast-check';
import { readdirSync, readFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { csvField } from '../../lib/core/output-format.js';
import { planInputs } from '../../lib/core/input-plan.js';
import { createCsvParser } from '../../lib/io/csv-source.js';
import { Batcher } from '../../lib/streams/batcher.js';
import { CsvBatchReader } from '../../lib/streams/csv-batch-reader.js';
import { Preprocessor } from '../../lib/streams/preprocessor.js';
import { BUNDLED_MODELS_DIR, readModelVersion } from '../../lib/model-files.js';
import type { Batch, RejectedRow } from '../../lib/types.js';

const { contract } = await readModelVersion(BUNDLED_MODELS_DIR, 'weather');
const plan = planInputs(contract);
const HEADER = 'location,date,precipitation,temp_max,temp_min,wind,weather';

interface Outcome {
  batches: { index: number; inputs: unknown[]; rows: unknown[] }[];
  rejects: RejectedRow[];
  raws: number[][];
  columns: readonly string[] | undefined;
  counts: unknown;
  error: string | undefined;
}

function describe(batch: Batch): Outcome['batches'][number] {
  return {
    index: batch.index,
    // Every row's features, in row order: the rows' own inputs, concatenated.
    inputs: batch.inputs.map((i) => ({
      name: i.name,
      datatype: i.datatype,
      shape: i.shape,
      data: [...i.data],
    })),
    rows: batch.rows.map((r) => ({ line: r.line, values: r.values, row: r.row })),
  };
}

async function run(chunks: Buffer[], fused: boolean, batchSize: number, skipRows: number): Promise<Outcome> {
  const rejects: RejectedRow[] = [];
  const raws: number[][] = [];
  const options = {
    plan,
    onReject: (row: RejectedRow) => rejects.push(row),
    onRaw: (raw: Float64Array) => raws.push([...raw]),
    skipRows,
  };
  const batches: Outcome['batches'] = [];
  const texts: string[] = [];
  const collect = async (source: AsyncIterable<Batch>) => {
    for await (const batch of source) {
      batches.push(describe(batch));
      for (const row of batch.rows)
        if (row.text !== undefined)
          texts.push(row.text, row.values.map((v) => csvField(String(v))).join(','));
    }
  };
  let error: string | undefined;
  let stage: Pick<Preprocessor, 'columns' | 'counts'> | undefined;
  try {
    if (fused) {
      const reader = new CsvBatchReader({ ...options, batchSize });
      stage = reader.rows;
      await pipeline(Readable.from(chunks, { objectMode: false }), reader, collect);
    } else {
      const preprocessor = new Preprocessor(options);
      stage = preprocessor;
      await pipeline(
        Readable.from(chunks, { objectMode: false }),
        createCsvParser(),
        preprocessor,
        new Batcher({ batchSize }),
        collect,
      );
    }
  } catch (err) {
    const e = err as { code?: string; message?: string };
    error = `${e.code ?? ''} ${e.message ?? ''}`;
  }
  // A row passed through as its text must be its values written as CSV: that is what the output relies on.
  for (let i = 0; i < texts.length; i += 2)
    if (texts[i] !== texts[i + 1]) error = `text ${texts[i]} is not its values`;
  return {
    batches,
    rejects,
    raws,
    columns: error === undefined ? stage?.columns : undefined,
    counts: error === undefined ? { ...stage?.counts } : undefined,
    error,
  };
}

function split(bytes: Buffer, cuts: number[]): Buffer[] {
  const at = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const chunks: Buffer[] = [];
  let from = 0;
  for (const cut of [...at, bytes.length]) {
    if (cut > from) chunks.push(bytes.subarray(from, cut));
    from = Math.max(from, cut);
  }
  return chunks;
}

const good = fc
  .tuple(
    fc.constantFrom('Seattle', 'New York', 'São Paulo', ''),
    fc.constantFrom('2012-01-01', '2015-07-14', '2014-02-30', 'soon', ''),
    fc.constantFrom('0.0', '10.9', '-1', 'NaN', 'x', ' 3 ', '1e308', ''),
    fc.constantFrom('12.8', '-3.3', '', 'Infinity'),
    fc.constantFrom('5.0', '-8.2', '7'),
    fc.constantFrom('4.7', '0', '2.5e1'),
    fc.constantFrom('rain', 'sun', ''),
  )
  .map((fields) => fields.join(','));
const odd = fc.constantFrom(
  '"Seattle",2012-01-02,1.0,10.0,5.0,3.0,"rain, heavy"',
  'Seattle,2012-01-03,"1.0\n2.0",10.0,5.0,3.0,rain',
  'Seattle,2012-01-04,1.0,10.0,5.0,3.0,"say ""hi"""',
  'Sea"ttle,2012-01-05,1.0,10.0,5.0,3.0,rain',
  'Seattle,"2012-01-06"x,1.0,10.0,5.0,3.0,rain',
  'Seattle,2012-01-07,1.0,10.0,5.0,3.0,"never closed',
  'Seattle,2012-01-08,1.0\r,10.0,5.0,3.0,rain',
  'Seattle,2012-01-09,1.0',
  'a,b,c,d,e,f,g,h',
  '   ',
  '',
  '\uFFFD,2012-01-10,1.0,10.0,5.0,3.0,rain',
);
const line = fc.oneof({ weight: 6, arbitrary: good }, { weight: 1, arbitrary: odd });

const document = fc.record({
  bom: fc.boolean(),
  crlf: fc.boolean(),
  header: fc.constantFrom(HEADER, HEADER, HEADER, `"location",${HEADER.slice(9)}`, 'location,date,wind', ''),
  lines: fc.array(
    fc.oneof(
      line,
      line.map((l) => `${l}\u0000BAD`),
    ),
    { maxLength: 40 },
  ),
  badByte: fc.option(fc.nat(), { nil: undefined }),
  lastBreak: fc.boolean(),
  cuts: fc.array(fc.nat(), { maxLength: 12 }),
  batchSize: fc.integer({ min: 1, max: 7 }),
  skipRows: fc.constantFrom(0, 0, 0, 2),
});

function bytesOf(d: typeof document extends fc.Arbitrary<infer T> ? T : never): Buffer {
  const eol = d.crlf ? '\r\n' : '\n';
  const lines = [d.header, ...d.lines].map((l) => l.replace('\u0000BAD', ''));
  let bytes = Buffer.from(`${d.bom ? '\uFEFF' : ''}${lines.join(eol)}${d.lastBreak ? eol : ''}`, 'utf8');
  if (d.badByte !== undefined && bytes.length > 0) {
    // An invalid UTF-8 byte somewhere (it may land in the header, a line break or a quoted field).
    const at = d.badByte % bytes.length;
    bytes = Buffer.concat([bytes.subarray(0, at), Buffer.from([0xff]), bytes.subarray(at)]);
  }
  return bytes;
}

t.test('decides every input as the reader → Preprocessor → Batcher chain does', async (t) => {
  await fc.assert(
    fc.asyncProperty(document, async (d) => {
      const bytes = bytesOf(d);
      const chunks = split(bytes, d.cuts);
      const fused = await run(chunks, true, d.batchSize, d.skipRows);
      const chain = await run(chunks, false, d.batchSize, d.skipRows);
      t.strictSame(fused, chain, JSON.stringify(bytes.toString('latin1')));
      return true;
    }),
    { numRuns: 400, seed: 20261127 },
  );
});

t.test('the malformed-input corpus reads alike, in one chunk and byte by byte', async (t) => {
  const dir = 'test/fixtures/malformed';
  for (const name of readdirSync(dir).filter((f) => f.endsWith('.csv'))) {
    const bytes = readFileSync(`${dir}/${name}`);
    // Byte by byte where that stays quick; the 380 kB of huge-fields.csv in 4 kB chunks.
    const step = bytes.length > 10_000 ? 4096 : 1;
    const cuts = Array.from({ length: Math.ceil(bytes.length / step) }, (_, k) => k * step);
    for (const chunks of [[bytes], split(bytes, cuts)]) {
      const fused = await run(chunks, true, 4, 0);
      t.strictSame(fused, await run(chunks, false, 4, 0), `${name} in ${chunks.length} chunk(s)`);
    }
  }
});

t.test(
  'plain lines pass through as their text; the rest of the input after a quote is read in full',
  async (t) => {
    const bytes = Buffer.from(
      `${HEADER}\nSeattle,2012-01-01,0.0,12.8,5.0,4.7,drizzle\n"Seattle",2012-01-02,10.9,10.6,2.8,4.5,rain\nSeattle,2012-01-03,0.8,11.7,7.2,2.3,rain\n`,
    );
    const texts: (string | undefined)[] = [];
    await pipeline(
      Readable.from([bytes], { objectMode: false }),
      new CsvBatchReader({
        plan,
        onReject: () => undefined,
        onRaw: undefined,
        skipRows: 0,
        batchSize: 10,
      }),
      async (batches: AsyncIterable<Batch>) => {
        for await (const b of batches) for (const r of b.rows) texts.push(r.text);
      },
    );
    t.strictSame(texts, ['Seattle,2012-01-01,0.0,12.8,5.0,4.7,drizzle', undefined, undefined]);
  },
);
