import { readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { openEngine } from '../compose/open-engine.js';
import type { Engine } from '../engine/engine.js';

/** CPU time of the whole machine (all processes, kernel included), in ms, from /proc/stat. */
function machineCpuMs(): { user: number; system: number } {
  const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  const tick = 10; // USER_HZ is 100 on Linux: 10 ms per tick
  return { user: (fields[0]! + fields[1]!) * tick, system: (fields[2]! + fields[5]! + fields[6]!) * tick };
}

/** CPU of this process's runner-forkserver children, in ms (a fork-server engine's share of the work). */
function forkServerCpuMs(): number {
  let ticks = 0;
  for (const pid of readFileSync(`/proc/self/task/${process.pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean)) {
    try {
      if (readFileSync(`/proc/${pid}/comm`, 'utf8').trim() !== 'runner-forkserv') continue;
      const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
      ticks += Number(fields[11]) + Number(fields[12]);
    } catch {
      // gone
    }
  }
  return ticks * 10;
}

export interface CostRow {
  scenario: string;
  wall_ms: number;
  machine_cpu_ms: number;
  machine_user_ms: number;
  machine_system_ms: number;
  /** The engine process's CPU, and its fork server's where it has one. */
  engine_process_cpu_ms: number | null;
}

async function measure(scenario: string, count: number, op: () => Promise<void> | void, engineProcess: boolean): Promise<CostRow> {
  const cpu0 = machineCpuMs();
  const own0 = process.cpuUsage();
  const server0 = forkServerCpuMs();
  const t0 = performance.now();
  for (let i = 0; i < count; i++) await op();
  const wall = (performance.now() - t0) / count;
  await new Promise((resolve) => setTimeout(resolve, 300)); // let deferred kernel clean-up (netns) land
  const cpu1 = machineCpuMs();
  const own = process.cpuUsage(own0);
  const server = forkServerCpuMs() - server0;
  const per = (x: number): number => Math.round((x / count) * 100) / 100;
  return {
    scenario,
    wall_ms: per(wall * count),
    machine_cpu_ms: per(cpu1.user - cpu0.user + cpu1.system - cpu0.system),
    machine_user_ms: per(cpu1.user - cpu0.user),
    machine_system_ms: per(cpu1.system - cpu0.system),
    engine_process_cpu_ms: engineProcess ? per((own.user + own.system) / 1000 + server) : null,
  };
}

/**
 * Where an execution's CPU goes: the machine-wide CPU (all processes and the kernel) per
 * execution of a program that does nothing, bare and in a cold sandbox, and per Python hello
 * world. The difference is the sandbox's own cost; the engine process's share is shown apart.
 * Sandboxes start both ways side by side: forked from the engine, and through the fork server
 * (what a server does).
 */
export async function measureCost(count: number): Promise<CostRow[]> {
  const spawned = await openEngine();
  const forked = await openEngine({ forkServer: true });
  const run = (engine: Engine, language: string, code: string) => async (): Promise<void> => {
    const result = await engine.execute({ language, code });
    if (result.status !== 'success') throw new Error(JSON.stringify(result.error));
  };
  const rows: CostRow[] = [];
  try {
    for (let i = 0; i < 5; i++) for (const engine of [spawned, forked]) await run(engine, 'bash', 'true')();
    rows.push(await measure('bare /bin/true', count, () => void spawnSync('/bin/true'), false));
    rows.push(await measure('sandbox: bash -c true (cold, engine forks)', count, run(spawned, 'bash', 'true'), true));
    rows.push(await measure('sandbox: bash -c true (cold, fork server)', count, run(forked, 'bash', 'true'), true));
    rows.push(await measure('bare /usr/bin/python3 -c print(1)', count, () => void spawnSync('/usr/bin/python3', ['-c', 'print(1)']), false));
    rows.push(await measure('sandbox: python print(1) (cold, engine forks)', count, run(spawned, 'python', 'print(1)'), true));
    rows.push(await measure('sandbox: python print(1) (cold, fork server)', count, run(forked, 'python', 'print(1)'), true));
  } finally {
    await Promise.all([spawned.close(), forked.close()]);
  }
  return rows;
}

export function formatCost(rows: CostRow[]): string {
  return [
    `${'scenario'.padEnd(48)} ${'wall'.padStart(7)} ${'cpu'.padStart(7)} ${'user'.padStart(7)} ${'sys'.padStart(7)} ${'engine'.padStart(7)}  (ms per execution, whole machine)`,
    ...rows.map((r) =>
      `${r.scenario.padEnd(48)} ${r.wall_ms.toFixed(1).padStart(7)} ${r.machine_cpu_ms.toFixed(1).padStart(7)} ${r.machine_user_ms.toFixed(1).padStart(7)} ${r.machine_system_ms.toFixed(1).padStart(7)} ${(r.engine_process_cpu_ms?.toFixed(1) ?? '-').padStart(7)}`,
    ),
  ].join('\n');
}
