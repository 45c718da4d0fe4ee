import { hostActor } from '../../runtime/actor-host.js';
import type { DecoderConfig } from './decoder-config.js';
import { Decoder } from './decoder.actor.js';

hostActor<DecoderConfig>((ctx) => new Decoder(ctx));
