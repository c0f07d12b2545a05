#!/bin/bash
# What the launch mount namespace (agent/src/forkserver.c, --launch-mount-ns) saves each sandbox:
# the CPU (perf stat task-clock: bwrap and everything it forks, kernel included) of N bwraps with a
# sandbox's full argv (bwrap/plan.ts: every namespace, the image, the /proc masks, /dev, the
# tmpfs), running /bin/true, started from the host's mount namespace and from a copy of it without
# the mounts the fork server detaches, alternating ROUNDS times. Needs root and the python image.
#
#   bench/bwrap-mount-table.sh [N] [ROUNDS] [RUNNER_CODES_HOME]
set -euo pipefail
n=${1:-100}
rounds=${2:-3}
home=${3:-${RUNNER_CODES_HOME:-/var/cache/runner-codes}}
rootfs=$home/images/python/rootfs
[ -d "$rootfs" ] || { echo "no python image at $rootfs (run infra.operator setup)" >&2; exit 1; }

args=(--unshare-user --unshare-pid --unshare-net --unshare-ipc --unshare-uts --unshare-cgroup --hostname sandbox
  --as-pid-1 --die-with-parent --new-session --ro-bind "$rootfs" / --ro-bind "$home/bin/runner-agent" /.runner/runner-agent --proc /proc)
for f in /proc/cmdline /proc/config.gz /proc/kallsyms /proc/keys /proc/key-users /proc/timer_list /proc/sys/kernel/random/boot_id; do
  [ -e "$f" ] && args+=(--ro-bind /dev/null "$f")
done
for d in acpi bus driver fs irq; do
  [ -d "/proc/$d" ] && args+=(--size 4096 --tmpfs "/proc/$d" --remount-ro "/proc/$d")
done
args+=(--size 65536 --perms 0755 --tmpfs /dev)
for node in null zero full random urandom tty; do args+=(--dev-bind "/dev/$node" "/dev/$node"); done
args+=(--symlink /proc/self/fd /dev/fd --symlink /proc/self/fd/0 /dev/stdin --symlink /proc/self/fd/1 /dev/stdout --symlink /proc/self/fd/2 /dev/stderr)
for m in /tmp /dev/shm /work; do args+=(--size 67108864 --perms 1777 --tmpfs "$m"); done
args+=(--remount-ro /dev --chdir /work --clearenv --setenv PATH /usr/bin:/bin --cap-drop ALL -- /bin/true)

cpu_ms() { perf stat -x, -e task-clock -- "$@" 2>&1 >/dev/null | awk -F, '/task-clock/ {print $1}'; }
declare -p args > /tmp/.bwrap-mount-table-args
loop='source /tmp/.bwrap-mount-table-args; for _ in $(seq '"$n"'); do bwrap "${args[@]}"; done'
# The mounts forkserver.c detaches (UNNEEDED_MOUNTS).
small='for m in /sys /dev/pts /dev/shm /dev/mqueue /dev/hugepages /proc/sys/fs/binfmt_misc /run/netns; do while umount -l $m 2>/dev/null; do :; done; done; '

echo "host mounts: $(wc -l < /proc/self/mountinfo); in the launch namespace: $(unshare -m --propagation slave bash -c "$small"' wc -l < /proc/self/mountinfo')"
echo "ms of CPU per bwrap (bwrap and its children, kernel included), $n each, alternating:"
for r in $(seq "$rounds"); do
  host=$(cpu_ms bash -c "$loop")
  launch=$(cpu_ms unshare -m --propagation slave bash -c "$small$loop")
  awk -v h="$host" -v l="$launch" -v n="$n" 'BEGIN { printf "  host namespace %.2f   launch namespace %.2f   saved %.2f\n", h / n, l / n, (h - l) / n }'
done
rm -f /tmp/.bwrap-mount-table-args
