import { existsSync } from 'node:fs';
import { which } from '../../config/which.js';
import { missing, type BackendHost } from '../backend-host.js';
import { BwrapBackend } from './backend.js';

export function openBackend({ paths, cgroups, hostIds, forkServer }: BackendHost): BwrapBackend {
  const bwrap = which('bwrap');
  if (!bwrap) throw missing('bubblewrap (bwrap) is not installed');
  if (!existsSync(paths.seccompFilter)) throw missing(`the seccomp filter is not built (${paths.seccompFilter})`);
  // A host set up before the fork server existed spawns each sandbox, as before.
  const forkServerPath = forkServer && existsSync(paths.forkServer) ? paths.forkServer : undefined;
  return new BwrapBackend({
    bwrapPath: bwrap,
    launcherPath: paths.launcher,
    agentPath: paths.agent,
    seccompFilterPath: paths.seccompFilter,
    seccompFilterI386Path: paths.seccompFilterI386,
    cgroups,
    hostIds,
    ...(forkServerPath ? { forkServerPath } : {}),
  });
}
