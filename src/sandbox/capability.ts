/** Whether the host can do one thing (run a backend, use KVM, make cgroups), and why or why not. */
export interface Capability {
  usable: boolean;
  reason: string;
}
