import { hostActor } from '../../src/runtime/actor-host.js';

/** An actor whose start-up always fails (or, with `{afterRestart: true}`, fails only once restarted after a crash). */
hostActor<{ afterRestart?: boolean }>((ctx) => ({
  onStart() {
    if (!ctx.config.afterRestart || ctx.restarts > 0) throw new Error('cannot open the thing this actor needs');
  },
  onBatch(msgs) {
    if (ctx.config.afterRestart) throw new Error(`crash on seq ${msgs[0]!.seq}`);
  },
}));
