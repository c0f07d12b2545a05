import type { ImageManifest } from '../images/manifest.js';
import { ImageStore } from '../images/store.js';
import type { Fleet } from './fleet.js';

/**
 * The images an API in queue mode can offer: those of its live workers (their manifests, so
 * /api/v1/languages and Piston's runtimes list what the fleet runs, with its versions). It has no
 * rootfs of its own: nothing is executed on the API's host.
 */
export class FleetImageStore extends ImageStore {
  readonly #fleet: Fleet;

  constructor(dir: string, fleet: Fleet) {
    super(dir);
    this.#fleet = fleet;
  }

  override manifest(id: string): ImageManifest | null {
    return this.#fleet.manifest(id);
  }
}
