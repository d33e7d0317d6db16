/**
 * An Airflow DAG file of deploy/airflow loaded with stand-ins for Airflow (test/deploy/load_dag.py): the
 * operator calls it makes (with their `partial` and `expand` arguments) and its module constants.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { PACKAGE_ROOT } from '../../lib/package-root.js';

type Obj = Record<string, unknown>;

export interface LoadedDag {
  calls: { operator: string; partial: Obj; expand: Obj | null }[];
  constants: Obj;
}

/** `T`: the shape the caller reads it as (its own JSON types). */
export async function loadDag<T = LoadedDag>(file: string): Promise<T> {
  const { stdout } = await promisify(execFile)('python3', [
    '-B',
    join(PACKAGE_ROOT, 'test', 'deploy', 'load_dag.py'),
    join(PACKAGE_ROOT, 'deploy', 'airflow', file),
  ]);
  return JSON.parse(stdout) as T;
}
