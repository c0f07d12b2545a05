// PLACEHOLDER for the streaming branch until agentv2's AgentSession lands (PROTOCOL2.md): the
// types only, exactly as the protocol specifies them. On merge, agentv2's file replaces this one.
import type { JobStage, StageReport } from '../protocol/messages.js';

export interface ExecHandlers {
  onOutput?(stream: 'stdout' | 'stderr', data: Buffer, seq: number, stage: string): void;
  onStage?(stage: string): void;
  onControl?(data: Buffer): void;
}
export interface ExecOptions {
  stream?: boolean;
  interactive?: boolean;
  control?: boolean;
}
export interface RunningExec {
  readonly id: number;
  readonly done: Promise<StageReport[]>;
  stdin(data: Buffer, eof?: boolean): void;
  signal(signal: number): void;
  control(data: Buffer): void;
}
export interface FileEntry {
  path: string;
  type: 'file' | 'dir' | 'symlink' | 'other';
  size: number;
  mode: number;
  mtime_ms: number;
}
export interface AgentSession {
  exec(stages: JobStage[], options?: ExecOptions, handlers?: ExecHandlers): RunningExec;
  put(path: string, content: Buffer, options?: { mode?: number; overwrite?: boolean }): Promise<void>;
  get(path: string, maxBytes: number): Promise<{ content: Buffer; size: number; mode: number; mtime_ms: number }>;
  list(path: string, options?: { recursive?: boolean; maxEntries?: number }): Promise<{ entries: FileEntry[]; truncated: boolean }>;
  remove(path: string, options?: { recursive?: boolean }): Promise<void>;
}
