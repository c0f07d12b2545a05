import { InvalidRequestError } from '../../errors.js';
import type { Credentials } from './oci-auth.js';
import { OciClient } from './oci-client.js';
import type { RemoteRef } from './ref.js';
import type { BlobTransport } from './transport.js';

/**
 * Registry credentials from the environment (never flags: they would show in `ps`). Both or neither;
 * without them a registry that asks for a login gets a clear REGISTRY_AUTH error.
 */
export function registryCredentials(env: NodeJS.ProcessEnv = process.env): Credentials | undefined {
  const username = env.RUNNER_CODES_REGISTRY_USERNAME;
  const password = env.RUNNER_CODES_REGISTRY_PASSWORD;
  if (!username && !password) return undefined;
  if (!username) throw new InvalidRequestError('RUNNER_CODES_REGISTRY_USERNAME', 'set it too: RUNNER_CODES_REGISTRY_PASSWORD is set without a user name');
  if (!password) throw new InvalidRequestError('RUNNER_CODES_REGISTRY_PASSWORD', `set it too: RUNNER_CODES_REGISTRY_USERNAME is '${username}' without a password`);
  return { username, password };
}

/** The client for a reference: an OCI registry repository, or an S3 prefix (the AWS SDK loads only then). */
export async function openTransport(ref: RemoteRef, options: { push: boolean; env?: NodeJS.ProcessEnv; chunkSize?: number }): Promise<BlobTransport> {
  const env = options.env ?? process.env;
  if (ref.kind === 's3') return new (await import('./s3-client.js')).S3Client(ref, {}, env);
  const credentials = registryCredentials(env);
  return new OciClient(ref, { push: options.push, ...(credentials ? { credentials } : {}), ...(options.chunkSize ? { chunkSize: options.chunkSize } : {}) });
}
