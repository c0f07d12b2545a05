import { ErrorCodes } from '../../errors.js';
import type { Judge0Status, SubmissionResult, SubmissionStatus } from './types.js';

/** Judge0's status table (its `/statuses`), by id. */
export const JUDGE0_STATUSES: readonly Judge0Status[] = [
  { id: 1, description: 'In Queue' },
  { id: 2, description: 'Processing' },
  { id: 3, description: 'Accepted' },
  { id: 4, description: 'Wrong Answer' },
  { id: 5, description: 'Time Limit Exceeded' },
  { id: 6, description: 'Compilation Error' },
  { id: 7, description: 'Runtime Error (SIGSEGV)' },
  { id: 8, description: 'Runtime Error (SIGXFSZ)' },
  { id: 9, description: 'Runtime Error (SIGFPE)' },
  { id: 10, description: 'Runtime Error (SIGABRT)' },
  { id: 11, description: 'Runtime Error (NZEC)' },
  { id: 12, description: 'Runtime Error (Other)' },
  { id: 13, description: 'Internal Error' },
  { id: 14, description: 'Exec Format Error' },
];

const status = (id: number): Judge0Status => ({ ...JUDGE0_STATUSES[id - 1]! });

/** The signals Judge0 names; any other signal is "Runtime Error (Other)". */
const SIGNAL_IDS: Readonly<Record<string, number>> = { SIGSEGV: 7, SIGXFSZ: 8, SIGFPE: 9, SIGABRT: 10 };

/**
 * Judge0's status for a finished result, in the order Judge0 itself decides: a failed compile
 * first, then the time limit, then how the run stage ended, then the verdict. A run that ended
 * normally without an expected output is Accepted (as in Judge0). 14 (Exec Format Error) is never
 * given: programs start through their language's launcher, and an exec failure there is exit 127
 * with the agent's message on stderr, which is a runtime error like any other.
 */
export function judge0StatusOfResult(result: SubmissionResult): Judge0Status {
  if (result.status === 'failed') return status(result.error?.code === ErrorCodes.AGENT_TIMEOUT ? 5 : 13);
  const compile = result.compile;
  if (compile && (compile.exit_code !== 0 || compile.signal !== null || compile.timed_out || compile.oom_killed)) return status(6);
  if (result.timed_out) return status(5);
  // The OOM killer's SIGKILL: Judge0 has no memory status, so it is one of the "Other" runtime errors.
  if (result.oom_killed) return status(12);
  if (result.signal !== null) return status(SIGNAL_IDS[result.signal] ?? 12);
  if (result.exit_code !== 0) return status(11);
  return status(result.verdict === 'wrong_answer' ? 4 : 3);
}

/** Judge0's status of a record: In Queue, Processing, the result's, or Internal Error for a failed record. */
export function judge0StatusOf(state: SubmissionStatus, result?: SubmissionResult): Judge0Status {
  if (state === 'queued') return status(1);
  if (state === 'running') return status(2);
  if (state === 'done' && result) return judge0StatusOfResult(result);
  return status(13);
}
