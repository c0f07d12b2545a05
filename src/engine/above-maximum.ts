import { InvalidRequestError, type ErrorCode } from '../errors.js';

/** The settings that bound requests (rows of MAXIMA_OPTIONS in maxima.ts). */
export type MaximumSetting = 'maxStdinBytes' | 'maxCodeBytes' | 'maxTimeoutMs' | 'maxMemoryMb' | 'maxPids' | 'maxOutputBytes' | 'maxOutputFiles' | 'maxOutputFilesBytes';

/**
 * A request above a maximum. `setting` says which maximum, so that each edge can name its own way to
 * raise it (the CLI its flag); `detail` is what is wrong, without the field.
 */
export class AboveMaximumError extends InvalidRequestError {
  readonly setting: MaximumSetting;
  readonly detail: string;
  constructor(field: string, detail: string, setting: MaximumSetting, options: { code?: ErrorCode; note?: string } = {}) {
    super(field, `${detail}${options.note ?? ''}`, options.code);
    this.setting = setting;
    this.detail = detail;
  }
}
