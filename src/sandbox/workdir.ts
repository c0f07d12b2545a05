/** The program's working directory in every sandbox, bwrap or VM: a size-capped tmpfs it may write. */
export const WORKDIR = '/work';
