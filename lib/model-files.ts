/**
 * Reads a Triton-style model repository from disk: `<repo>/<model>/<version>/model.onnx`, with an optional
 * `model.json` beside it (the contract is read from the ONNX graph, lib/onnx/contract.ts), versions being
 * positive integers, and an optional per-model `<repo>/<model>/config.json` whose version
 * policy says which versions are served and which one answers when a request names none. Shared by the server
 * (which loads sessions) and the in-process scorer, so both pick the same default version.
 */
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { basename, dirname, join, resolve, sep } from 'node:path';
import { BatchInferError, ErrorCodes, show } from './errors.js';
import { checkModelJson, isObject, type ModelContract } from './core/model-contract.js';
import { contractFromGraph } from './onnx/contract.js';
import { readGraph } from './onnx/graph.js';
import { PACKAGE_ROOT } from './package-root.js';

/** The repository bundled with the package: `models/` at the package root. */
export const BUNDLED_MODELS_DIR: string = join(PACKAGE_ROOT, 'models');

export interface ModelVersionFiles {
  name: string;
  version: number;
  dir: string;
  onnxPath: string;
  /** The ONNX model to load: model.onnx's bytes, with ZipMap outputs rewritten as tensors (lib/onnx/graph.ts). */
  onnx: Uint8Array;
  /** sha256 of model.onnx as it is on disk (hex). */
  sha256: string;
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

/**
 * Which versions of a model are served, as Triton's `version_policy`: all of them, the `latest` n, or a
 * `specific` list.
 */
export type VersionPolicy =
  | { all: Record<string, never> }
  | { latest: { num_versions: number } }
  | { specific: { versions: number[] } };

/**
 * A model's `config.json` (every field optional), or the config a repository `load` request overrides it with.
 * @example { "version_policy": { "specific": { "versions": [1, 2] } }, "default_version": 1 }
 */
export interface ModelConfig {
  /**
   * The versions served.
   * @default { "all": {} } — every version directory (Triton's own default is the latest one only)
   */
  version_policy?: VersionPolicy;
  /**
   * The version that answers requests naming none; one of the served versions. A batch-infer extension: in
   * Triton the latest served version always answers, so serving a challenger would make it the default.
   * @default the latest served version
   */
  default_version?: number;
}

/** The versions a config serves out of those on disk, and the default one. */
export interface ServedVersions {
  versions: number[];
  defaultVersion: number;
}

function isVersion(x: unknown): x is number {
  return typeof x === 'number' && Number.isSafeInteger(x) && x >= 1;
}

function only(value: Record<string, unknown>, keys: readonly string[], where: string): void {
  const unknown = Object.keys(value).filter((k) => !keys.includes(k));
  if (unknown.length > 0)
    throw new BatchInferError(
      ErrorCodes.MODEL_CONTRACT,
      `${where}: unknown key ${show(unknown[0])} (known: ${keys.join(', ')})`,
    );
}

function parsePolicy(value: unknown, where: string): VersionPolicy {
  const bad = (expected: string): never => {
    throw new BatchInferError(
      ErrorCodes.MODEL_CONTRACT,
      `${where}: \`version_policy\` must be ${expected}, got ${show(value)}`,
    );
  };
  if (!isObject(value) || Object.keys(value).length !== 1)
    return bad('one of {"all": {}}, {"latest": {"num_versions": n}}, {"specific": {"versions": [n, …]}}');
  const [kind, body] = Object.entries(value)[0] as [string, unknown];
  if (kind === 'all' && isObject(body) && Object.keys(body).length === 0) return { all: {} };
  if (kind === 'latest' && isObject(body) && isVersion(body.num_versions) && Object.keys(body).length === 1)
    return { latest: { num_versions: body.num_versions } };
  if (kind === 'specific' && isObject(body) && Object.keys(body).length === 1) {
    const versions = body.versions;
    if (Array.isArray(versions) && versions.length > 0 && versions.every(isVersion))
      return { specific: { versions: [...new Set(versions)].sort((a, b) => a - b) } };
  }
  return bad('{"all": {}}, {"latest": {"num_versions": n ≥ 1}} or {"specific": {"versions": [n ≥ 1, …]}}');
}

/**
 * Checks a parsed config.json (or a load request's config override): only `version_policy` and
 * `default_version`, versions positive integers; anything else is BI_ERR_MODEL_CONTRACT naming `where`.
 */
export function parseModelConfig(value: unknown, where: string): ModelConfig {
  if (!isObject(value))
    throw new BatchInferError(
      ErrorCodes.MODEL_CONTRACT,
      `${where} must be a JSON object, got ${show(value)}`,
    );
  only(value, ['version_policy', 'default_version'], where);
  const config: ModelConfig = {};
  if (value.version_policy !== undefined) config.version_policy = parsePolicy(value.version_policy, where);
  if (value.default_version !== undefined) {
    if (!isVersion(value.default_version))
      throw new BatchInferError(
        ErrorCodes.MODEL_CONTRACT,
        `${where}: \`default_version\` must be an integer ≥ 1, got ${show(value.default_version)}`,
      );
    config.default_version = value.default_version;
  }
  return config;
}

/** The model's config.json, or `{}` (every version served, the latest answering) when it has none. */
export async function readModelConfig(repo: string, name: string): Promise<ModelConfig> {
  const path = join(repo, name, 'config.json');
  const parsed = await readJsonFile(path, name, true);
  return parsed === undefined ? {} : parseModelConfig(parsed, show(path));
}

/**
 * A model file's JSON, with BI_ERR_MODEL_CONTRACT naming the file when it cannot be read or parsed;
 * `undefined` for a missing file when `optional`.
 */
async function readJsonFile(path: string, model: string, optional = false): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (cause) {
    if (optional && (cause as { code?: unknown }).code === 'ENOENT') return undefined;
    throw new BatchInferError(ErrorCodes.MODEL_CONTRACT, `Cannot read ${show(path)}`, {
      cause,
      context: { model },
    });
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (cause) {
    throw new BatchInferError(ErrorCodes.MODEL_CONTRACT, `${show(path)} is not valid JSON`, {
      cause,
      context: { model },
    });
  }
}

/**
 * Applies a config to the versions on disk (ascending). A policy naming a version that is not on disk, or a
 * default version the policy does not serve, is BI_ERR_MODEL_CONTRACT: a typo must not serve something else.
 */
export function selectVersions(name: string, config: ModelConfig, onDisk: readonly number[]): ServedVersions {
  const fail = (message: string): never => {
    throw new BatchInferError(ErrorCodes.MODEL_CONTRACT, `Model ${show(name)}: ${message}`, {
      context: { model: name },
    });
  };
  if (onDisk.length === 0)
    throw new BatchInferError(ErrorCodes.MODEL_NOT_FOUND, `Model ${show(name)} has no version directories`, {
      context: { model: name },
    });
  const policy = config.version_policy ?? { all: {} };
  let versions: number[];
  if ('specific' in policy) {
    const missing = policy.specific.versions.filter((v) => !onDisk.includes(v));
    if (missing.length > 0)
      fail(
        `version_policy names version(s) ${missing.join(', ')}, not in the repository (${onDisk.join(', ')})`,
      );
    versions = [...policy.specific.versions];
  } else if ('latest' in policy) versions = onDisk.slice(-policy.latest.num_versions);
  else versions = [...onDisk];
  const defaultVersion = config.default_version ?? versions[versions.length - 1];
  if (defaultVersion === undefined) return fail('version_policy selects no version');
  if (!versions.includes(defaultVersion))
    fail(`default_version ${defaultVersion} is not one of the served versions (${versions.join(', ')})`);
  return { versions, defaultVersion };
}

/**
 * Reads one version's model: its ONNX graph and model.json (optional), checked against each other. `version` defaults to the model's default version (its
 * config.json's version policy); a version named explicitly may be any version directory.
 */
export async function readModelVersion(
  repo: string,
  name: string,
  version?: number,
): Promise<ModelVersionFiles> {
  const versions = await listVersions(repo, name);
  const chosen =
    version ??
    (versions.length === 0
      ? undefined
      : selectVersions(name, await readModelConfig(repo, name), versions).defaultVersion);
  if (chosen === undefined || !versions.includes(chosen)) {
    const what = version === undefined ? 'has no version directories' : `has no version ${version}`;
    throw new BatchInferError(ErrorCodes.MODEL_NOT_FOUND, `Model ${show(name)} ${what} in ${show(repo)}`, {
      context: { model: name },
    });
  }
  return readVersionDir(name, chosen, join(repo, name, String(chosen)));
}

/**
 * One version directory's model: model.onnx's graph and the optional model.json beside it, checked against each
 * other. `version` is 0 for a model file named directly (`batch-infer inspect path/to/model.onnx`).
 */
async function readVersionDir(
  name: string,
  version: number,
  dir: string,
  file = 'model.onnx',
): Promise<ModelVersionFiles> {
  const onnxPath = join(dir, file);
  let bytes: Uint8Array;
  try {
    bytes = await readFile(onnxPath);
  } catch (cause) {
    throw new BatchInferError(ErrorCodes.MODEL_CONTRACT, `Cannot read ${show(onnxPath)}`, {
      cause,
      context: { model: name },
    });
  }
  const json = await readJsonFile(join(dir, 'model.json'), name, true);
  const graph = readGraph(bytes, name);
  return {
    name,
    version,
    dir,
    onnxPath,
    onnx: graph.onnx,
    sha256: createHash('sha256').update(bytes).digest('hex'),
    contract: contractFromGraph(
      name,
      graph.contract,
      json === undefined ? undefined : checkModelJson(json, name),
    ),
  };
}

/**
 * A model named on the command line: a path to an ONNX file (its model.json, if any, beside it; named after its
 * directory, or its model's in a repository's version directory), a path to a model directory of a repository (`<repo>/<model>`), or a model name in `repo`.
 */
export async function readModelArgument(
  argument: string,
  repo: string,
  version?: number,
): Promise<ModelVersionFiles> {
  if (argument.endsWith('.onnx')) {
    const dir = resolve(dirname(argument));
    // In a repository's version directory (`<repo>/<model>/<version>/model.onnx`): that model and version.
    const inVersion = /^[1-9]\d*$/.test(basename(dir));
    const name = basename(inVersion ? dirname(dir) : dir) || 'model';
    return readVersionDir(name, inVersion ? Number(basename(dir)) : 0, dir, basename(argument));
  }
  if (argument.includes('/') || argument.includes(sep))
    return readModelVersion(dirname(argument), basename(argument), version);
  return readModelVersion(repo, argument, version);
}
