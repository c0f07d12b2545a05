/** Message types of the agent protocol (docs/protocol.md). */

export interface ReadyMessage {
  type: 'ready';
  protocol: number;
  agent: string;
}

export interface JobFile {
  path: string;
  content_b64: string;
  executable: boolean;
}

export interface StageRlimits {
  cpu_s: number;
  nofile: number;
  fsize_bytes: number;
  stack_bytes: number;
  core_bytes: 0;
}

export interface JobStage {
  name: string;
  argv: string[];
  env: string[];
  cwd: string;
  stdin_b64: string;
  timeout_ms: number;
  output_limit: number;
  rlimits: StageRlimits;
}

export interface JobMessage {
  type: 'job';
  protocol: number;
  workdir: string;
  files: JobFile[];
  stages: JobStage[];
}

export interface StageReport {
  name: string;
  exit_code: number;
  signal: number;
  timed_out: boolean;
  stdout_b64: string;
  stderr_b64: string;
  stdout_truncated: boolean;
  stderr_truncated: boolean;
  wall_ms: number;
  cpu_ms: number;
  max_rss_kb: number;
  /** OOM kills the guest kernel counted during the stage (VM backends; 0 where the host's cgroup counts). */
  oom_kills?: number;
}

export interface ResultMessage {
  type: 'result';
  protocol: number;
  stages: StageReport[];
}

export interface AgentErrorMessage {
  type: 'error';
  protocol: number;
  code: 'bad_frame' | 'bad_job' | 'file_write' | 'internal' | string;
  message: string;
}

export type AgentMessage = ReadyMessage | ResultMessage | AgentErrorMessage;
