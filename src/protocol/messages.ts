/**
 * Message types of the agent protocol (docs/protocol.md): version 1's one-shot job and version
 * 2's session. One source for both sides of the host: the engine builds jobs from these and
 * src/sandbox/agent-session.ts speaks the session frames.
 */

export interface ReadyMessage {
  type: 'ready';
  /** The newest version the agent speaks. */
  protocol: number;
  /** Every version it speaks (absent from agents older than version 2: then `[protocol]`). */
  protocols?: number[];
  agent: string;
  /** Optional frames it understands: `prestart` (absent from older agents: none). */
  features?: string[];
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

/** What a job asks back: the regular files under `dir` (relative to the workdir), within the caps. */
export interface JobCollect {
  dir: string;
  max_files: number;
  /** Content bytes of all the files together. */
  max_bytes: number;
}

export interface JobMessage {
  type: 'job';
  protocol: number;
  workdir: string;
  files: JobFile[];
  stages: JobStage[];
  collect?: JobCollect;
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
  /** The stage ran in the interpreter a prestart frame started (absent otherwise). */
  prestarted?: true;
}

/** Version 1's optional first frame: start this stage's interpreter now, its program comes with the job. */
export interface PrestartMessage {
  type: 'prestart';
  protocol: number;
  /** Exactly one stage; its timeout_ms bounds the wait for the interpreter's ready byte. */
  stages: [JobStage];
  /** A file the agent writes before the interpreter starts (`/tmp/<dir>/<name>`, read-only for the program). */
  boot?: { path: string; content_b64: string };
}

export interface PrestartedMessage {
  type: 'prestarted';
  protocol: number;
  /** False: the interpreter did not start (`message` says why); the job will start cold. */
  ready: boolean;
  message?: string;
}

/** One file a job's collect brought back. */
export interface CollectedFile {
  /** Relative to the workdir, e.g. `outputs/plot.svg`. */
  path: string;
  /** The file's size (its content may be cut: `truncated`). */
  size: number;
  content_b64: string;
  truncated: boolean;
}

export interface ResultMessage {
  type: 'result';
  protocol: number;
  stages: StageReport[];
  /** Present when the job asked for them (`collect`): sorted by path. */
  outputs?: CollectedFile[];
  /** A file was cut or left out at the caps. */
  outputs_truncated?: boolean;
}

export interface AgentErrorMessage {
  type: 'error';
  protocol: number;
  code: 'bad_frame' | 'bad_job' | 'file_write' | 'internal' | string;
  message: string;
}

export type AgentMessage = ReadyMessage | ResultMessage | PrestartedMessage | AgentErrorMessage;

// ---- Version 2: a session (host → agent) ----

export interface OpenMessage {
  type: 'open';
  protocol: 2;
  workdir: string;
}

export interface ExecRequest {
  type: 'exec';
  id: number;
  stages: JobStage[];
  stream: boolean;
  interactive: boolean;
  control: boolean;
}

export interface StdinMessage {
  type: 'stdin';
  id: number;
  data_b64: string;
  eof: boolean;
}

export interface SignalMessage {
  type: 'signal';
  id: number;
  signal: number;
}

/** Bytes for a stage's fd 3 (host → agent), or from it (agent → host). */
export interface ControlMessage {
  type: 'control';
  id: number;
  data_b64: string;
}

export interface PutRequest {
  type: 'put';
  id: number;
  path: string;
  content_b64: string;
  mode: number;
  overwrite: boolean;
}

export interface GetRequest {
  type: 'get';
  id: number;
  path: string;
  max_bytes: number;
}

export interface ListRequest {
  type: 'list';
  id: number;
  path: string;
  recursive: boolean;
  max_entries: number;
}

export interface DeleteRequest {
  type: 'delete';
  id: number;
  path: string;
  recursive: boolean;
}

export interface CloseMessage {
  type: 'close';
}

export type SessionRequest = ExecRequest | StdinMessage | SignalMessage | ControlMessage | PutRequest | GetRequest | ListRequest | DeleteRequest | CloseMessage;

// ---- Version 2: a session (agent → host) ----

export interface OpenedMessage {
  type: 'opened';
  id: 0;
}

export interface OutputMessage {
  type: 'output';
  id: number;
  stage: string;
  stream: 'stdout' | 'stderr';
  /** Counts an exec's output frames from 0, across both streams. */
  seq: number;
  data_b64: string;
}

export interface StageEventMessage {
  type: 'stage';
  id: number;
  name: string;
  event: 'start';
}

export interface ExecResultMessage {
  type: 'exec_result';
  id: number;
  stages: StageReport[];
}

export interface OkMessage {
  type: 'ok';
  id: number;
}

export interface FileMessage {
  type: 'file';
  id: number;
  path: string;
  size: number;
  mode: number;
  mtime_ms: number;
  content_b64: string;
}

export interface FileEntry {
  /** Relative to the workdir. */
  path: string;
  type: 'file' | 'dir' | 'symlink' | 'other';
  size: number;
  mode: number;
  mtime_ms: number;
}

export interface EntriesMessage {
  type: 'entries';
  id: number;
  truncated: boolean;
  entries: FileEntry[];
}

/** The agent's session error codes (docs/protocol.md). */
export const SESSION_ERROR_CODES = ['bad_request', 'bad_path', 'not_found', 'exists', 'is_dir', 'not_dir', 'symlink', 'too_large', 'no_such_exec', 'internal'] as const;
export type SessionErrorCode = (typeof SESSION_ERROR_CODES)[number];

/** A failed request (with its id and type), or, without an id, a fatal error (the agent exits). */
export interface SessionErrorMessage {
  type: 'error';
  id?: number;
  /** The failed request's type: an error about a stdin, signal or control frame is not its exec's end. */
  request?: string;
  code: SessionErrorCode | 'bad_frame' | string;
  message: string;
}

export type SessionMessage = OpenedMessage | OutputMessage | StageEventMessage | ControlMessage | ExecResultMessage | OkMessage | FileMessage | EntriesMessage | SessionErrorMessage;
