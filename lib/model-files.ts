/**
 * Reads a Triton-style model repository from disk: `<repo>/<model>/<version>/model.onnx` + `model.json`,
 * versions being positive integers. Shared by the server (which loads sessions) and the in-process scorer.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { BatchInferError, ErrorCodes, show } from './errors.js';
import { validateContract, type ModelContract } from './core/model-contract.js';
import { PACKAGE_ROOT } from './package-root.js';

/** The repository bundled with the package: `models/` at the package root. */
export const BUNDLED_MODELS_DIR: string = join(PACKAGE_ROOT, 'models');

export interface ModelVersionFiles {
  name: string;
  version: number;
  dir: string;
  onnxPath: string;
  contract: ModelContract;
}

async function listDirs(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  return entries.filter((e) => e.isDirectory() && !e.name.startsWith('.')).map((e) => e.name);
}

/** Names of the models in a repository, sorted. */
export async function listModels(repo: string): Promise<string[]> {
  try {
    return (await listDirs(repo)).sort();
  } catch (cause) {
    throw new BatchInferError(ErrorCodes.MODEL_NOT_FOUND, `Cannot read model repository ${show(repo)}`, {
      cause,
    });
  }
}

/** Versions of a model, ascending. Directories that are not positive integers are ignored, as in Triton. */
export async function listVersions(repo: string, name: string): Promise<number[]> {
  let dirs: string[];
  try {
    dirs = await listDirs(join(repo, name));
  } catch (cause) {
    throw new BatchInferError(
      ErrorCodes.MODEL_NOT_FOUND,
      `Model ${show(name)} is not in repository ${show(repo)}`,
      {
        cause,
        context: { model: name },
      },
    );
  }
  return dirs
    .filter((d) => /^[1-9]\d*$/.test(d))
    .map(Number)
    .sort((a, b) => a - b);
}

/** Reads and validates one version's model.json; `version` defaults to the latest. */
export async function readModelVersion(
  repo: string,
  name: string,
  version?: number,
): Promise<ModelVersionFiles> {
  const versions = await listVersions(repo, name);
  const chosen = version ?? versions[versions.length - 1];
  if (chosen === undefined || !versions.includes(chosen)) {
    const what = version === undefined ? 'has no version directories' : `has no version ${version}`;
    throw new BatchInferError(ErrorCodes.MODEL_NOT_FOUND, `Model ${show(name)} ${what} in ${show(repo)}`, {
      context: { model: name },
    });
  }
  const dir = join(repo, name, String(chosen));
  let text: string;
  try {
    text = await readFile(join(dir, 'model.json'), 'utf8');
  } catch (cause) {
    throw new BatchInferError(ErrorCodes.MODEL_CONTRACT, `Cannot read ${show(join(dir, 'model.json'))}`, {
      cause,
      context: { model: name },
    });
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (cause) {
    throw new BatchInferError(
      ErrorCodes.MODEL_CONTRACT,
      `${show(join(dir, 'model.json'))} is not valid JSON`,
      { cause, context: { model: name } },
    );
  }
  return {
    name,
    version: chosen,
    dir,
    onnxPath: join(dir, 'model.onnx'),
    contract: validateContract(parsed, name),
  };
}
