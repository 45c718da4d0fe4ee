import { hostActor } from '../../runtime/actor-host.js';
import { type PassThroughConfig, PassThrough } from './pass-through.actor.js';

hostActor<PassThroughConfig>((ctx) => new PassThrough(ctx));
