import { hostActor } from '../../runtime/actor-host.js';
import { Submitter, type SubmitterSlice } from './submitter.actor.js';

hostActor<SubmitterSlice>((ctx) => new Submitter(ctx));
