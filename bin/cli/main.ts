/**
 * The CLI's dispatcher: `batch-infer <command> [options]`. Returns the exit code instead of exiting, so
 * stdout drains and tests can call it in process (STYLE.md §10).
 */
import type { Logger } from 'pino';
import { VERSION } from '../../lib/version.js';
import { commandHelp, parseCommandArgs, type Command } from './command.js';
import { demoCommand } from './demo.js';
import { evaluateCommand } from './evaluate.js';
import { EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE, exitCodeFor } from './exit-codes.js';
import { inspectCommand } from './inspect.js';
import { createLogger, logSettings } from './log-flags.js';
import { isTerminal, stylesFor } from './terminal.js';
import { profileCommand } from './profile.js';
import { promoteCommand } from './promote.js';
import { reportCommand } from './report.js';
import { runCommand } from './run.js';
import { serveCommand } from './serve.js';
import { isBatchInferError, ErrorCodes } from '../../lib/errors.js';

export const COMMANDS: readonly Command[] = [
  runCommand,
  serveCommand,
  evaluateCommand,
  demoCommand,
  reportCommand,
  promoteCommand,
  inspectCommand,
  profileCommand,
];

export function mainHelp(): string {
  return [
    'Usage: batch-infer <command> [options]',
    '',
    'Score data with ML models: a streaming batch pipeline, an Open Inference Protocol model server, one CLI.',
    '',
    'Commands:',
    ...COMMANDS.map((c) => `  ${c.name.padEnd(10)} ${c.summary}`),
    '',
    'Options:',
    '  -h, --help     Show help (also: batch-infer <command> --help)',
    '  -v, --version  Print the version',
    '',
    'Every command also takes --log-format pretty|json (default: pretty on a terminal, else JSON lines),',
    '-q/--quiet, --verbose, --log-level <level> and --config <file>.',
    '',
  ].join('\n');
}

export interface MainIO {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  env: NodeJS.ProcessEnv;
  signal: AbortSignal;
  logger?: Logger;
}

export async function main(argv: readonly string[], io: MainIO): Promise<number> {
  const [first, ...rest] = argv;
  if (first === undefined || first === '--help' || first === '-h' || first === 'help') {
    io.stdout.write(mainHelp());
    return first === undefined ? EXIT_USAGE : EXIT_OK;
  }
  if (first === '--version' || first === '-v') {
    io.stdout.write(`${VERSION}\n`);
    return EXIT_OK;
  }
  const command = COMMANDS.find((c) => c.name === first);
  if (command === undefined) {
    io.stderr.write(
      `batch-infer: unknown command "${first}"; commands: ${COMMANDS.map((c) => c.name).join(', ')}\n`,
    );
    return EXIT_USAGE;
  }
  let logger: Logger | undefined;
  try {
    const values = parseCommandArgs(command, [...rest], io.env);
    if (values.help === true) {
      io.stdout.write(commandHelp(command));
      return EXIT_OK;
    }
    const settings = logSettings(values, io.stderr, io.env);
    logger = io.logger ?? (await createLogger(settings, io.stderr));
    return await command.run(values, { ...io, logger, pretty: settings.format === 'pretty' });
  } catch (err) {
    // The reader of our stdout went away (`… | head`): that is how a pipe ends, not a failure.
    const reason = io.signal.aborted
      ? (io.signal.reason as { code?: unknown; message?: string } | undefined)
      : undefined;
    if ((err as { code?: unknown }).code === 'EPIPE' || reason?.code === 'EPIPE') return EXIT_OK;
    if (reason !== undefined) {
      io.stderr.write(
        `batch-infer ${command.name}: stopped (${reason.message ?? 'aborted'}); no partial output was committed\n`,
      );
      return EXIT_INTERRUPTED;
    }
    const code = exitCodeFor(err);
    // A BatchInferError's code closes the line (docs/errors.md): what scripts and searches match on.
    const message =
      (err instanceof Error ? err.message : String(err)) +
      (isBatchInferError(err) && err.code !== ErrorCodes.USAGE ? ` [${err.code}]` : '');
    // On a terminal: on a line of its own (not after a live progress line), its prefix red where colour is on.
    const erase = isTerminal(io.stderr) ? '\r\x1b[K' : '';
    const prefix = stylesFor(io.stderr, io.env).red(`batch-infer ${command.name}:`);
    io.stderr.write(`${erase}${prefix} ${message}\n`);
    if (isBatchInferError(err, ErrorCodes.USAGE))
      io.stderr.write(`See: batch-infer ${command.name} --help\n`);
    else if (!isBatchInferError(err)) logger?.debug({ err }, 'unexpected error');
    return code;
  }
}
