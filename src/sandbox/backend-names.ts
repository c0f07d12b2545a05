/**
 * The isolation backends, listed once, each a folder of src/sandbox/ with an `open.ts` (registry.ts
 * loads it): the union type, the `auto` choice, the CLI and config choices, the HTTP schema's
 * `backend` field and each backend's `name` all derive from this list.
 */
export const BACKEND_NAMES = ['bwrap', 'qemu', 'firecracker'] as const;
export type BackendName = (typeof BACKEND_NAMES)[number];
/** What a user may ask for: a backend, or `auto` for the strongest one this host can run fast. */
export type BackendChoice = BackendName | 'auto';
export const BACKEND_CHOICES: readonly BackendChoice[] = ['auto', ...BACKEND_NAMES];
