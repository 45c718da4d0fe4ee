import { hostActor } from '../../runtime/actor-host.js';
import { Simulator, type SimulatorSlice } from './simulator.actor.js';

hostActor<SimulatorSlice>((ctx) => new Simulator(ctx));
