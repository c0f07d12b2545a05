import { summarize } from './stats.js';

/** The `timings` of an execution result: the server's own clock. */
export interface ResultTimings {
  load_ms: number;
  compile_ms: number;
  exec_ms: number;
  total_ms: number;
}

/** The server-side timings of measured requests, to split a client's latency into its parts. */
export class ServerTimings {
  readonly #load: number[] = [];
  readonly #program: number[] = [];
  readonly #total: number[] = [];

  record(timings: ResultTimings): void {
    this.#load.push(timings.load_ms);
    this.#program.push(timings.compile_ms + timings.exec_ms);
    this.#total.push(timings.total_ms);
  }

  /** Medians: what the client waited = the server's total (its load, the program, the rest) + HTTP and JSON. */
  split(clientP50: number): { client_ms: number; server_total_ms: number; load_ms: number; program_ms: number } {
    return { client_ms: clientP50, server_total_ms: summarize(this.#total).p50, load_ms: summarize(this.#load).p50, program_ms: summarize(this.#program).p50 };
  }
}
