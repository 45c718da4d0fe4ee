import { hostActor } from '../../runtime/actor-host.js';
import { Scorer, type ScorerSlice } from './scorer.actor.js';

hostActor<ScorerSlice>((ctx) => new Scorer(ctx));
