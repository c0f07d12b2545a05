import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { dataPaths } from '../../src/config/paths.js';

/** C for a stand-in agent: write one frame to the host, skip one frame from it. */
export const FRAME_IO_C = String.raw`#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void frame(const char *json) {
  uint32_t n = htonl((uint32_t)strlen(json));
  write(1, &n, 4);
  write(1, json, strlen(json));
}

static void skip_frame(void) {
  uint32_t n;
  if (read(0, &n, 4) != 4) exit(1);
  for (size_t left = ntohl(n); left > 0;) {
    char buf[4096];
    ssize_t r = read(0, buf, left < sizeof buf ? left : sizeof buf);
    if (r <= 0) exit(1);
    left -= (size_t)r;
  }
}
`;

/**
 * Stand-in agents for tests where the agent lies: C built statically into a data dir of their
 * own (like setup's, with the real images), removed by cleanup().
 */
export class StandInAgents {
  readonly #dirs: string[] = [];

  /** Data paths whose runner-agent is `main` (after FRAME_IO_C) built with these -D defines. */
  paths(main: string, defines: Record<string, string | number>): ReturnType<typeof dataPaths> {
    const dir = mkdtempSync('/tmp/rc-stand-in-');
    this.#dirs.push(dir);
    // The sandbox's uid (bwrap) must reach the binary it mounts.
    chmodSync(dir, 0o755);
    const source = join(dir, 'agent.c');
    writeFileSync(source, FRAME_IO_C + main);
    const agent = join(dir, 'runner-agent');
    execFileSync('cc', ['-O2', '-static', ...Object.entries(defines).map(([k, v]) => `-D${k}=${v}`), '-o', agent, source]);
    return { ...dataPaths(), agent };
  }

  cleanup(): void {
    for (const dir of this.#dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  }
}
