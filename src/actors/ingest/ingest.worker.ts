import { hostActor } from '../../runtime/actor-host.js';
import type { IngestConfig } from './ingest-config.js';
import { Ingest } from './ingest.actor.js';

hostActor<IngestConfig>((ctx) => new Ingest(ctx));
