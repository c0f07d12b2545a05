import { Command } from 'commander';
import type { Capability } from '../../host/doctor.js';
import { exitWith, printJson, type CliContext } from '../context.js';

export function doctorCommand(ctx: CliContext): Command {
  return new Command('doctor')
    .description('show what this host supports (cgroups, namespaces, KVM, backends, images); changes nothing')
    .option('--json', 'print the report as JSON')
    .action(
      exitWith(ctx, async (flags: { json?: boolean }) => {
        const report = (await import('../../host/doctor.js')).diagnoseHost();
        if (flags.json) {
          printJson(report);
        } else {
          const line = (name: string, c: Capability): string => `${c.usable ? 'ok  ' : 'no  '} ${name.padEnd(16)} ${c.reason}`;
          const lines = [
            `data dir: ${report.data_dir}${report.root ? '' : ' (not root)'}`,
            line('cgroups', report.cgroup),
            line('user namespaces', report.user_namespaces),
            line('kvm', report.kvm),
            line('agent', report.agent),
            line('seccomp filter', report.seccomp_filter),
            ...report.dependencies.map((d) => `${d.present ? 'ok  ' : 'no  '} ${d.package.padEnd(16)} ${d.purpose}`),
            ...Object.entries(report.backends).map(([name, c]) => line(`backend ${name}`, c)),
            ...report.images.map((i) => `${i.built ? (i.stale ? 'old ' : 'ok  ') : 'no  '} ${`image ${i.id}`.padEnd(16)} ${i.built ? `${Math.round((i.manifest?.bytes ?? 0) / 1e6)} MB${i.stale ? ' (recipe changed: rebuild)' : ''}` : 'not built'}`),
          ];
          process.stdout.write(lines.join('\n') + '\n');
        }
        return report.backends.bwrap.usable ? 0 : 1;
      }),
    );
}
