import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorCodes } from '../../src/errors.js';
import { digestOf } from '../../src/images/content/digest.js';
import { CONFIG_MEDIA_TYPE, LAYER_MEDIA_TYPE } from '../../src/images/content/archive.js';
import { imageArtifact, parseImageArtifact } from '../../src/images/registry/artifact.js';

const config = Buffer.from('{"id":"lua"}');
const layer = { mediaType: LAYER_MEDIA_TYPE, digest: digestOf(Buffer.from('layer')), size: 5 };

describe('the OCI artifact of an image', () => {
  it('round-trips: what push writes, pull reads, with the annotations', () => {
    const body = imageArtifact(config, [layer], { language: 'lua', image: 'lua', created: '2026-12-01T00:00:00.000Z' });
    const { manifest, digest } = parseImageArtifact(body, 'x', digestOf(body));
    assert.equal(digest, digestOf(body));
    assert.deepEqual(manifest.config, { mediaType: CONFIG_MEDIA_TYPE, digest: digestOf(config), size: config.length });
    assert.deepEqual(manifest.layers, [layer]);
    assert.equal(manifest.artifactType, 'application/vnd.runner-codes.image.v1');
    assert.equal(manifest.annotations['dev.runner-codes.language'], 'lua');
  });

  it('refuses a manifest that is not the pinned one before reading it', () => {
    const body = imageArtifact(config, [layer], { language: 'lua', image: 'lua', created: 'now' });
    assert.throws(() => parseImageArtifact(body, 'x', digestOf(Buffer.from('other'))), (err: Error & { code?: string }) => err.code === ErrorCodes.IMAGE_DIGEST && /not the pinned/.test(err.message));
  });

  it('refuses manifests that are not Runner Codes images, naming what is wrong', () => {
    const good = JSON.parse(imageArtifact(config, [layer], { language: 'lua', image: 'lua', created: 'now' }).toString()) as Record<string, unknown>;
    const cases: [unknown, RegExp][] = [
      ['not json{', /not JSON/],
      [{ ...good, schemaVersion: 1 }, /schemaVersion 2/],
      [{ ...good, mediaType: 'application/vnd.docker.distribution.manifest.v2+json' }, /is a application\/vnd.docker/],
      [{ ...good, config: { ...(good.config as object), mediaType: 'application/vnd.oci.image.config.v1+json' } }, /its config is a application\/vnd.oci.image.config/],
      [{ ...good, config: { ...(good.config as object), size: 1e9 } }, /config declares 1000000000 bytes/],
      [{ ...good, layers: [] }, /1 to 64 layers/],
      [{ ...good, layers: Array(65).fill(layer) }, /1 to 64 layers/],
      [{ ...good, layers: [{ ...layer, digest: 'md5:abc' }] }, /layer 0 has no sha256 digest/],
      [{ ...good, layers: [{ ...layer, size: -1 }] }, /layer 0 has no size/],
      [{ ...good, layers: [{ ...layer, mediaType: 'application/vnd.oci.image.layer.v1.tar' }] }, /layer 0 is a application\/vnd.oci.image.layer.v1.tar,/],
    ];
    for (const [value, why] of cases) {
      const body = Buffer.from(typeof value === 'string' ? value : JSON.stringify(value));
      assert.throws(() => parseImageArtifact(body, 'reg/x:1'), (err: Error & { code?: string }) => {
        assert.equal(err.code, ErrorCodes.IMAGE_IMPORT, err.message);
        assert.match(err.message, /^reg\/x:1 is not a Runner Codes image: /);
        assert.match(err.message, why);
        return true;
      });
    }
  });
});
