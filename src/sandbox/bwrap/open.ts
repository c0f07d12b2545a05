import { existsSync } from 'node:fs';
import { which } from '../../config/which.js';
import { missing, type BackendHost } from '../backend-host.js';
import { BwrapBackend } from './backend.js';

export function openBackend({ paths, cgroups, hostIds }: BackendHost): BwrapBackend {
  const bwrap = which('bwrap');
  if (!bwrap) throw missing('bubblewrap (bwrap) is not installed');
  if (!existsSync(paths.seccompFilter)) throw missing(`the seccomp filter is not built (${paths.seccompFilter})`);
  return new BwrapBackend({ bwrapPath: bwrap, launcherPath: paths.launcher, agentPath: paths.agent, seccompFilterPath: paths.seccompFilter, seccompFilterI386Path: paths.seccompFilterI386, cgroups, hostIds });
}
