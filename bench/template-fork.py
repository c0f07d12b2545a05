#!/usr/bin/python3
"""The lower bound of a forked template interpreter (docs/performance.md, "The ceiling of this design").

    sudo /usr/bin/python3 bench/template-fork.py [executions]

Measures, side by side in one run, the CPU per execution (the parent's and its children's
`getrusage`) of three ways to run python `print(1)`:

- bare: `python3 -c 'print(1)'` started as a new process each time (what the bench calls bare);
- fork: a started interpreter (imports done, its objects frozen) forks; the child runs the compiled
  program and exits — the template alone, no isolation;
- isolated fork: the same, but each child first enters what a sandbox of its own needs, as the
  template design would: new user (one uid mapped), mount, network, IPC, UTS and pid namespaces,
  private propagation and a fresh tmpfs on /tmp, a pid-1 process (where the agent would be) and the
  program as its child. The template runs as an unprivileged uid (65534), as it would in a sandbox.

Not measured (both designs pay them, or they are the engine's): cgroups, seccomp, the agent's frames,
the network namespace's clean-up in kernel threads. A measurement, not a sandbox: nothing here is a
boundary to rely on.
"""
import collections, ctypes, gc, json, os, re, resource, subprocess, sys, time  # noqa: F401 (json, re, collections: a started interpreter's imports)

libc = ctypes.CDLL(None, use_errno=True)
CLONE_NEWNS, CLONE_NEWUTS, CLONE_NEWIPC = 0x00020000, 0x04000000, 0x08000000
CLONE_NEWUSER, CLONE_NEWPID, CLONE_NEWNET = 0x10000000, 0x20000000, 0x40000000
MS_REC, MS_PRIVATE, PR_SET_DUMPABLE = 16384, 1 << 18, 4
UID = 65534
PROGRAM = compile("print(1)", "<main>", "exec")


def check(result: int, what: str) -> None:
    if result != 0:
        os.write(2, f"{what}: {os.strerror(ctypes.get_errno())}\n".encode())
        os._exit(100)


def write(path: str, text: str) -> None:
    with open(path, "w") as f:
        f.write(text)


def run_in_child(isolated: bool) -> None:
    if isolated:
        check(libc.unshare(CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWPID), "unshare")
        write("/proc/self/setgroups", "deny")
        write("/proc/self/uid_map", f"1000 {UID} 1")
        write("/proc/self/gid_map", f"1000 {UID} 1")
        for _ in range(2):  # pid 1 of the new namespace (the agent's place), then the program as its child
            pid = os.fork()
            if pid:
                os._exit(0 if os.waitpid(pid, 0)[1] == 0 else 1)
            if os.getpid() == 1:
                check(libc.mount(b"none", b"/", None, MS_REC | MS_PRIVATE, None), "mount --make-rprivate /")
                check(libc.mount(b"tmpfs", b"/tmp", b"tmpfs", 0, b"size=64m"), "mount tmpfs /tmp")
    os.dup2(os.open("/dev/null", os.O_WRONLY), 1)
    exec(PROGRAM, {"__name__": "__main__"})
    sys.stdout.flush()


def cpu(usage: resource.struct_rusage) -> float:
    return usage.ru_utime + usage.ru_stime


def measure(label: str, executions: int, once) -> float:
    children, own, started = resource.getrusage(resource.RUSAGE_CHILDREN), resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
    for _ in range(executions):
        once()
    wall = (time.perf_counter() - started) / executions * 1000
    spent = (cpu(resource.getrusage(resource.RUSAGE_CHILDREN)) - cpu(children) + cpu(resource.getrusage(resource.RUSAGE_SELF)) - cpu(own)) / executions * 1000
    print(f"{label:<16} wall {wall:6.2f} ms   cpu {spent:6.2f} ms per execution", flush=True)
    return spent


def forked(isolated: bool):
    def once() -> None:
        pid = os.fork()
        if pid == 0:
            try:
                run_in_child(isolated)
                os._exit(0)
            except BaseException as err:  # noqa: BLE001
                os.write(2, f"{err!r}\n".encode())
                os._exit(99)
        status = os.waitpid(pid, 0)[1]
        if status != 0:
            sys.exit(f"a child failed ({status})")
    return once


def bare() -> None:
    subprocess.run(["/usr/bin/python3", "-c", "print(1)"], stdout=subprocess.DEVNULL, check=True)


def main() -> None:
    executions = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    if os.getuid() != 0:
        sys.exit("run as root (the template then drops to uid 65534)")
    os.setgid(UID)
    os.setuid(UID)
    libc.prctl(PR_SET_DUMPABLE, 1, 0, 0, 0)  # setuid() cleared it; /proc/self/uid_map needs it
    gc.freeze()
    print(f"{executions} executions each, load average {os.getloadavg()[0]:.1f}")
    results = {"bare": [], "fork": [], "isolated fork": []}
    for _ in range(3):  # alternating rounds: a shared machine's drift hits all three alike
        results["bare"].append(measure("bare", executions, bare))
        results["fork"].append(measure("fork", executions, forked(False)))
        results["isolated fork"].append(measure("isolated fork", executions, forked(True)))
    medians = {label: sorted(values)[1] for label, values in results.items()}
    print("median cpu per execution: " + ", ".join(f"{label} {value:.2f} ms" for label, value in medians.items()))
    print(f"isolated fork / bare: {medians['isolated fork'] / medians['bare']:.2f}")


main()
