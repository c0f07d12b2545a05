declare module 'piston-client' {
  // piston-client ships no types; the tests read its replies as Piston documents them.
  export function piston(options: { server: string }): {
    runtimes(): Promise<unknown>;
    execute(language: string, code: string, options?: Record<string, unknown>): Promise<any>;
  };
}
