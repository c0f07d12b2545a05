/** The two output streams of a program. */
export type OutputStream = 'stdout' | 'stderr';

/**
 * What a streamed execution reports while it runs, before its result: each chunk of output as the
 * program wrote it, within the output cap (`seq` counts the execution's chunks from 0 over both
 * streams), and the start of each stage. The result still carries all the output.
 */
export interface StreamHandlers {
  onOutput?(stream: OutputStream, data: Buffer, seq: number, stage: string): void;
  onStage?(stage: string): void;
}
