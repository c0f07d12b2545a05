#!/bin/bash
# What the launch mount namespace (agent/src/forkserver.c, --launch-mount-ns) saves each sandbox:
# the CPU (perf stat task-clock: bwrap and everything it forks, kernel included) of N bwraps with a
# sandbox's full argv (bwrap/plan.ts: every namespace, the image, the /proc masks, /dev, the
# tmpfs), running /bin/true, started
#   - from the host's mount namespace, /dev built by bwrap (a tmpfs, a bind per node, links, a remount),
#   - from a copy of it without the mounts the fork server detaches, /dev built the same way,
#   - from that copy with its /dev replaced by the sandboxes' own (agent/src/sandbox-dev.c), bound
#     whole (bwrap/plan.ts launchNamespaceDev: what a server's sandboxes do),
# alternating ROUNDS times. Needs root and the python image.
#
#   bench/bwrap-mount-table.sh [N] [ROUNDS] [RUNNER_CODES_HOME]
set -euo pipefail
n=${1:-100}
rounds=${2:-3}
home=${3:-${RUNNER_CODES_HOME:-/var/cache/runner-codes}}
rootfs=$home/images/python/rootfs
[ -d "$rootfs" ] || { echo "no python image at $rootfs (run infra.operator setup)" >&2; exit 1; }

head=(--unshare-user --unshare-pid --unshare-net --unshare-ipc --unshare-uts --unshare-cgroup --hostname sandbox
  --as-pid-1 --die-with-parent --new-session --ro-bind "$rootfs" / --ro-bind "$home/bin/runner-agent" /.runner/runner-agent --proc /proc)
for f in /proc/cmdline /proc/config.gz /proc/kallsyms /proc/keys /proc/key-users /proc/timer_list /proc/sys/kernel/random/boot_id; do
  [ -e "$f" ] && head+=(--ro-bind /dev/null "$f")
done
for d in acpi bus driver fs irq; do
  [ -d "/proc/$d" ] && head+=(--size 4096 --tmpfs "/proc/$d" --remount-ro "/proc/$d")
done
built=(--size 65536 --perms 0755 --tmpfs /dev)
for node in null zero full random urandom tty; do built+=(--dev-bind "/dev/$node" "/dev/$node"); done
built+=(--symlink /proc/self/fd /dev/fd --symlink /proc/self/fd/0 /dev/stdin --symlink /proc/self/fd/1 /dev/stdout --symlink /proc/self/fd/2 /dev/stderr)
writable=()
for m in /tmp /dev/shm /work; do writable+=(--size 67108864 --perms 1777 --tmpfs "$m"); done
tail=(--chdir /work --clearenv --setenv PATH /usr/bin:/bin --cap-drop ALL -- /bin/true)
args=("${head[@]}" "${built[@]}" "${writable[@]}" --remount-ro /dev "${tail[@]}")
prepared_args=("${head[@]}" --dev-bind /dev /dev "${writable[@]}" "${tail[@]}")

cpu_ms() { perf stat -x, -e task-clock -- "$@" 2>&1 >/dev/null | awk -F, '/task-clock/ {print $1}'; }
declare -p args prepared_args > /tmp/.bwrap-mount-table-args
loop='source /tmp/.bwrap-mount-table-args; for _ in $(seq '"$n"'); do bwrap "${args[@]}"; done'
prepared_loop='source /tmp/.bwrap-mount-table-args; for _ in $(seq '"$n"'); do bwrap "${prepared_args[@]}"; done'
# The mounts forkserver.c detaches (UNNEEDED_MOUNTS).
small='for m in /sys /dev/pts /dev/shm /dev/mqueue /dev/hugepages /proc/sys/fs/binfmt_misc /run/netns; do while umount -l $m 2>/dev/null; do :; done; done; '
# What sandbox-dev.c makes of /dev there.
dev='while umount -l /dev 2>/dev/null; do :; done; mount -t tmpfs -o nosuid,mode=0755,size=65536 tmpfs /dev && cd /dev &&
  mknod -m 666 null c 1 3 && mknod -m 666 zero c 1 5 && mknod -m 666 full c 1 7 && mknod -m 666 random c 1 8 &&
  mknod -m 666 urandom c 1 9 && mknod -m 666 tty c 5 0 && ln -s /proc/self/fd fd && ln -s /proc/self/fd/0 stdin &&
  ln -s /proc/self/fd/1 stdout && ln -s /proc/self/fd/2 stderr && mkdir -m 755 shm && cd / &&
  mount -o remount,ro,nosuid /dev && mount -o remount,bind,ro,nosuid /dev; '

echo "host mounts: $(wc -l < /proc/self/mountinfo); in the launch namespace: $(unshare -m --propagation slave bash -c "$small$dev"' wc -l < /proc/self/mountinfo')"
echo "ms of CPU per bwrap (bwrap and its children, kernel included), $n each, alternating:"
for r in $(seq "$rounds"); do
  host=$(cpu_ms bash -c "$loop")
  launch=$(cpu_ms unshare -m --propagation slave bash -c "$small$loop")
  prepared=$(cpu_ms unshare -m --propagation slave bash -c "$small$dev$prepared_loop")
  awk -v h="$host" -v l="$launch" -v p="$prepared" -v n="$n" 'BEGIN { printf "  host namespace %.2f   launch namespace %.2f   + its /dev bound whole %.2f   saved by that %.2f\n", h / n, l / n, p / n, (l - p) / n }'
done
rm -f /tmp/.bwrap-mount-table-args
