import { hostActor } from '../../runtime/actor-host.js';
import { type SyntheticSourceConfig, SyntheticSource } from './synthetic-source.actor.js';

hostActor<SyntheticSourceConfig>((ctx) => new SyntheticSource(ctx));
