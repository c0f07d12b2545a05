/**
 * The library entry of the `runner-codes` package: the engine the CLI and the HTTP API call.
 *
 *   import { openEngine } from 'runner-codes';
 *   const engine = await openEngine();
 *   const result = await engine.execute({ language: 'python', code: 'print(1)' });
 *   await engine.close();
 *
 * It needs what `infra.operator setup` installs (agent, seccomp filter, images under
 * RUNNER_CODES_HOME) and, for the bwrap backend, root.
 */
export { openEngine, type OpenEngineOptions } from './compose/open-engine.js';
export { openService, type OpenServiceOptions } from './compose/open-service.js';
export { ExecutionService, type Service, type ServiceExecuteOptions, type ServiceLoad, type ServicePoolStats, type ExecutedHook } from './engine/service.js';
export { Engine, type EngineOptions, type ExecuteOptions } from './engine/engine.js';
export type { ExecuteRequest, SubmittedFile, InputMaxima } from './engine/request.js';
export { DEFAULT_INPUT_MAXIMA } from './engine/request.js';
export type { ExecutionResult, StageResult, StageOutcome } from './engine/result.js';
export { DEFAULT_LIMITS, DEFAULT_MAXIMA, LIMIT_OPTIONS, type Limits, type LimitRequest, type LimitOption } from './engine/limits.js';
export { MAXIMA_OPTIONS, defaultMaximaSettings, engineMaxima, type MaximaSettings, type MaximumOption } from './engine/maxima.js';
export { AboveMaximumError, type MaximumSetting } from './engine/above-maximum.js';
export type { PoolOptions } from './engine/pool.js';
export { ErrorCodes, RunnerError, InvalidRequestError, SandboxError, ImageError, isRunnerError, type ErrorCode } from './errors.js';
export { LANGUAGES, DEFAULT_LANGUAGES } from './languages/catalog.js';
export { allLanguages, findLanguage, getLanguage } from './languages/lookup.js';
export type { LanguageSpec, LanguageFamily } from './languages/types.js';
export { BACKEND_CHOICES, BACKEND_NAMES, type BackendChoice, type BackendName } from './sandbox/backend-names.js';
export { dataDir, dataPaths, type DataPaths } from './config/paths.js';
