/** What every figure gets from the harness. */
export interface FigureContext {
  /** Temporary directory for inputs, outputs and per-process stats files. */
  dir: string;
  quick: boolean;
  repeats: number;
  /** Returns the path of a generated input of `rows` rows (generated once per run, seeded). */
  input(rows: number): Promise<string>;
  log(message: string): void;
}
