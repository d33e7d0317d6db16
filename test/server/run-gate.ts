/**
 * A slow model whose slowness the test decides, not the machine (issue #20). `holdRuns(t)` catches the model
 * runs the worker pool sends to its inference workers and keeps them unfinished until the test calls `open()`:
 *
 * - `hold` (the default): a run is held on its way to the worker. The pool counts the worker as busy and the
 *   engine counts the run as in flight, exactly as while a slow model computes, but nothing is computed until
 *   `open()` sends it on.
 * - `spin`: a run goes to the worker, which computes it for real; each answer is swallowed and the run sent
 *   again, so the worker keeps computing the model until `open()` lets the next answer through.
 *
 * Either way a run ends after `open()` and never before, however fast or loaded the machine is, so a test can
 * order the events it needs (a request queued behind a run, a deadline passed while it waits) without racing a
 * wall-clock duration. The gate works on the pool's messages (it patches `Worker.prototype.postMessage` and
 * `emit` while the test runs), so the server under test is the production one, worker included. A model whose
 * runs cost less than a worker's hand-off runs on the server's own thread (server/inference/main-thread.ts), never
 * in a worker: a test that gates such a model starts its server with `inThreadRunUs: 0`.
 */
import { Worker } from 'node:worker_threads';
import type { Test } from 'tap';
import type { WorkerReply, WorkerRequest } from '../../server/inference/worker-protocol.js';

type RunRequest = Extract<WorkerRequest, { type: 'run' }>;

export interface RunGate {
  /** Runs caught so far: sent by the pool and not yet let through. */
  readonly held: number;
  /** Times a worker computed a caught run (`spin` mode; each answer swallowed while the gate is closed). */
  readonly computed: number;
  /** Resolves once `condition()` holds; checked after every run caught or computed. */
  until(condition: () => boolean): Promise<void>;
  /** Lets every caught run finish, and every later one pass untouched. */
  open(): void;
}

export interface RunGateOptions {
  /** @default "hold" */
  mode?: 'hold' | 'spin';
  /** Which runs to catch. @default every run */
  catches?: (request: RunRequest) => boolean;
}

type Send = (this: Worker, message: unknown, transfer?: unknown) => void;
type Emit = (this: Worker, event: string | symbol, ...args: unknown[]) => boolean;

const isRun = (message: unknown): message is RunRequest =>
  typeof message === 'object' && message !== null && (message as { type?: unknown }).type === 'run';

/** Installs the gate for the rest of test `t` (removed at its teardown). One gate at a time. */
export function holdRuns(t: Test, options: RunGateOptions = {}): RunGate {
  const mode = options.mode ?? 'hold';
  const catches = options.catches ?? (() => true);
  const proto = Worker.prototype as Worker & { emit: Emit };
  const postMessage = Object.getOwnPropertyDescriptor(proto, 'postMessage') as PropertyDescriptor;
  const ownEmit = Object.getOwnPropertyDescriptor(proto, 'emit');
  const send = postMessage.value as Send;
  const emit = Reflect.get(proto, 'emit') as Emit;

  let open = false;
  let held = 0;
  let computed = 0;
  /** `hold`: runs not yet sent, with their transfer lists. */
  const waiting: { worker: Worker; request: RunRequest; transfer: unknown }[] = [];
  /** `spin`: runs in a worker, by id, with a copy of their inputs to send again. */
  const spinning = new Map<number, { worker: Worker; request: RunRequest }>();
  const waiters = new Set<() => void>();
  const changed = (): void => {
    for (const check of [...waiters]) check();
  };

  proto.postMessage = function (this: Worker, message: unknown, transfer?: unknown) {
    if (open || !isRun(message) || !catches(message)) {
      send.call(this, message, transfer);
      return;
    }
    held++;
    if (mode === 'hold') waiting.push({ worker: this, request: message, transfer });
    else {
      // The inputs' buffers move to the worker: keep a copy to send again after each round.
      spinning.set(message.id, { worker: this, request: structuredClone(message) });
      send.call(this, message, transfer);
    }
    changed();
  };
  proto.emit = function (this: Worker, event: string | symbol, ...args: unknown[]): boolean {
    const reply = args[0] as WorkerReply | null | undefined;
    if (event === 'message' && reply?.type === 'done' && spinning.has(reply.id)) {
      const run = spinning.get(reply.id) as { worker: Worker; request: RunRequest };
      computed++;
      if (!open) {
        send.call(run.worker, structuredClone(run.request));
        changed();
        return true;
      }
      spinning.delete(reply.id);
      changed();
    }
    return emit.call(this, event, ...args);
  };
  t.teardown(() => {
    Object.defineProperty(proto, 'postMessage', postMessage);
    if (ownEmit === undefined) delete (proto as Partial<typeof proto>).emit;
    else Object.defineProperty(proto, 'emit', ownEmit);
  });

  return {
    get held() {
      return held;
    },
    get computed() {
      return computed;
    },
    until(condition) {
      return new Promise((resolve) => {
        const check = (): void => {
          if (!condition()) return;
          waiters.delete(check);
          resolve();
        };
        waiters.add(check);
        check();
      });
    },
    open() {
      open = true;
      for (const { worker, request, transfer } of waiting.splice(0)) send.call(worker, request, transfer);
    },
  };
}
