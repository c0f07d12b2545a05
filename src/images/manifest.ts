import type { FetchedNpmPackage } from './npm-fetch.js';

/** What is recorded next to every built image (images/<id>/manifest.json). */
export interface ImageManifest {
  id: string;
  /** Content hash of the recipe chain and the build scripts; a different hash means rebuild. */
  recipe_hash: string;
  parent: string | null;
  packages: string[];
  /** npm packages unpacked into the image, with the integrity hash their tarballs had. */
  npm?: FetchedNpmPackage[];
  built_at: string;
  build_seconds: number;
  /** Apparent size of the whole tree (shared files counted in every image that has them). */
  bytes: number;
  /** Toolchain version per language id, probed in the image after the build. */
  versions: Record<string, string | null>;
  /** `imported` for an image made from layers (a pull or an import), absent for a built one. */
  source?: 'imported';
  /** The image digest (sha256 of its config): always set for an imported image; a built one's is computed on demand. */
  digest?: string;
}
