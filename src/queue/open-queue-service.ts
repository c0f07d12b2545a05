import { dataPaths } from '../config/paths.js';
import { engineMaxima, type MaximaSettings } from '../engine/maxima.js';
import { Fleet } from './fleet.js';
import { FleetImageStore } from './fleet-images.js';
import { OrphanReaper } from './orphan-reaper.js';
import { QueueKeys } from './queue-keys.js';
import { QueueService } from './queue-service.js';
import { blockingConnectionOptions, connectRequestRedis } from './redis-connections.js';
import { redisOptionsOf } from './redis-url.js';

/** What queue mode needs of the API's configuration. */
export interface QueueModeSettings extends MaximaSettings {
  queue: string;
  queuePrefix: string;
  queueOrphanMs: number;
  queueWaitMs: number;
  submissionTtlS: number;
}

/**
 * The API's service in queue mode: checks Redis answers (a bad URL or address fails the start,
 * naming it without the password), reads the fleet, and reaps orphaned queues in the background.
 */
export async function openQueueService(settings: QueueModeSettings): Promise<QueueService> {
  const base = redisOptionsOf(settings.queue);
  const redis = await connectRequestRedis(base);
  const keys = new QueueKeys(settings.queuePrefix);
  const fleet = new Fleet(redis, keys);
  await fleet.start();
  const { maxima, inputMaxima } = engineMaxima(settings);
  const blocking = blockingConnectionOptions(base);
  const reaper = new OrphanReaper(fleet, redis, blocking, keys, settings.queueOrphanMs, settings.submissionTtlS * 1000);
  reaper.start();
  const service = new QueueService({ redis, blocking, keys, fleet, images: new FleetImageStore(dataPaths().imagesDir, fleet), maxima, inputMaxima, waitMs: settings.queueWaitMs, reaper });
  await service.events.listen();
  return service;
}
