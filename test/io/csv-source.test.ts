import t from 'tap';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { createCsvParser } from '../../lib/io/csv-source.js';
import { PACKAGE_ROOT } from '../../lib/package-root.js';
import type { SourceRecord } from '../../lib/types.js';

// The CSV source's records, lines and reasons do not depend on how the bytes are cut into chunks: csv-parse
// keeps a record in progress across chunks, and a quote error waits for the end of its line. In the malformed
// corpus (test/fixtures/malformed/README.md) each row's last cell is `L<its line>`, which checks the lines.

const CORPUS = join(PACKAGE_ROOT, 'test', 'fixtures', 'malformed');

async function records(chunks: Buffer[]): Promise<SourceRecord[] | string> {
  const out: SourceRecord[] = [];
  try {
    for await (const record of Readable.from(chunks).pipe(createCsvParser()))
      out.push(record as SourceRecord);
  } catch (err) {
    return `${(err as { code?: string }).code}: ${(err as Error).message}`;
  }
  return out;
}

function cut(bytes: Buffer, size: number): Buffer[] {
  const chunks: Buffer[] = [];
  for (let at = 0; at < bytes.length; at += size) chunks.push(bytes.subarray(at, at + size));
  return chunks;
}

t.test('every corpus file gives the same records in one chunk, and in small chunks', async (t) => {
  const files = (await readdir(CORPUS)).filter((f) => f.endsWith('.csv'));
  t.ok(files.length >= 8, `${files.length} files`);
  for (const file of files) {
    const bytes = await readFile(join(CORPUS, file));
    const whole = await records([bytes]);
    // huge-fields.csv (380 kB) byte by byte would take a minute.
    for (const size of bytes.length < 10_000 ? [1, 5] : [997, 4099])
      t.same(await records(cut(bytes, size)), whole, `${file}: ${size}-byte chunks`);
    if (typeof whole === 'string') continue;
    for (const record of whole.slice(1)) {
      const last = record.values.at(-1) as string;
      if (record.error === undefined && /^L\d+$/.test(last))
        t.equal(last, `L${record.line}`, `${file}: ${last}`);
    }
  }
});

t.test('lines: blank lines, line breaks inside quotes (CRLF counts once), a BOM', async (t) => {
  const lf = '\ufeffa,b\n\n1,"x\r\ny"\n2,"p\nq\rr"\n\n\n3,z\n';
  t.same(await records([Buffer.from(lf)]), [
    { line: 1, values: ['a', 'b'] },
    { line: 3, values: ['1', 'x\r\ny'] },
    { line: 5, values: ['2', 'p\nq\rr'] },
    { line: 10, values: ['3', 'z'] },
  ]);
  const crlf = '\ufeffa,b\r\n\r\n1,"x\r\ny"\r\n\r\n3,z';
  t.same(await records(cut(Buffer.from(crlf), 1)), [
    { line: 1, values: ['a', 'b'] },
    { line: 3, values: ['1', 'x\r\ny'] },
    { line: 6, values: ['3', 'z'] },
  ]);
});

const breaksOn = (line: number): string =>
  `malformed CSV: the record starting on this line breaks on line ${line}: text after the closing quote of field 1 (name)`;

t.test(
  'a field that decodes as U+FFFD, and each kind of quote error, is a record with the reason',
  async (t) => {
    const bytes = Buffer.concat([
      Buffer.from('name,n\nok,1\n'),
      Buffer.from([0x62, 0xff, 0x2c, 0x32, 0x0a]), // b\xff,2
      Buffer.from('a"b,3\n"c"d,4\n"e,5\nf,6\n"g\n"h,7\ni,8\n"j,9\n'),
    ]);
    const expected = [
      { line: 1, values: ['name', 'n'] },
      { line: 2, values: ['ok', '1'] },
      {
        line: 3,
        values: ['b\ufffd', '2'],
        error: 'not valid UTF-8: field 1 (name) holds bytes that decode as U+FFFD',
      },
      { line: 4, values: ['a"b,3'], error: 'malformed CSV: a quote inside unquoted field 1 (name)' },
      { line: 5, values: ['"c"d,4'], error: 'malformed CSV: text after the closing quote of field 1 (name)' },
      // The quote opened on line 6 closes at the start of line 8, where text follows it: line 6 is the reject,
      // and a fresh csv-parse goes on from line 7, where the same happens to line 8's quote, and to line 9's.
      { line: 6, values: ['"e,5'], error: breaksOn(8) },
      { line: 7, values: ['f', '6'] },
      { line: 8, values: ['"g'], error: breaksOn(9) },
      { line: 9, values: ['"h,7'], error: breaksOn(11) },
      { line: 10, values: ['i', '8'] },
      { line: 11, values: ['"j,9'], error: 'malformed CSV: the quote of field 1 (name) is never closed' },
    ];
    t.same(await records([bytes]), expected, 'in one chunk');
    t.same(await records(cut(bytes, 1)), expected, 'byte by byte');
  },
);

t.test('a quote error before the header ends is an error of the run', async (t) => {
  t.match(await records([Buffer.from('a,"b\n1,2\n')]), /^BI_ERR_CSV_PARSE: Input is not valid CSV: /);
});
