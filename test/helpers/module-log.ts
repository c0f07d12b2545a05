/**
 * `node --import dist/test/helpers/module-log.js …` appends the URL of every module the process loads
 * (ESM and CommonJS entered through import) to the file named by MODULE_LOG, one a line. It is both the
 * `--import` entry (main thread: registers itself) and the loader hooks (the hooks thread).
 */
import { appendFileSync } from 'node:fs';
import { register, type LoadHook } from 'node:module';
import { isMainThread } from 'node:worker_threads';

if (isMainThread) register(import.meta.url);

export const load: LoadHook = async (url, context, next) => {
  const loaded = await next(url, context);
  if (process.env.MODULE_LOG) appendFileSync(process.env.MODULE_LOG, `${url}\n`);
  return loaded;
};
