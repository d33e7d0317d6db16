/** The held-out labelled sets of the fine-tuning tests: New York 2015 and Seattle 2015 from data/weather.csv. */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { WEATHER_CSV } from '../helpers.js';

/** Writes `new-york-2015.csv` and `seattle-2015.csv` into `dir` and returns their paths. */
export async function writeHeldOutSets(dir: string): Promise<{ newYork: string; seattle: string }> {
  const [header, ...lines] = (await readFile(WEATHER_CSV, 'utf8')).trimEnd().split('\n');
  const write = async (name: string, prefix: string): Promise<string> => {
    const path = join(dir, name);
    await writeFile(path, [header, ...lines.filter((l) => l.startsWith(prefix))].join('\n') + '\n');
    return path;
  };
  return {
    newYork: await write('new-york-2015.csv', 'New York,2015-'),
    seattle: await write('seattle-2015.csv', 'Seattle,2015-'),
  };
}
