/** Public API of orion-mev. */
export { Engine, type EngineOptions, type EngineStats, type StageStats, STAGES, RESULTS_RING, syntheticPipeline } from './engine.js';
export { type EngineConfig, type ConfigInput, DEFAULT_CONFIG, validateConfig, loadConfig } from './runtime/config.js';
export { OrionError, type OrionErrorCode } from './runtime/errors.js';
export { RingBuffer, WriteStatus, EMPTY } from './runtime/ring/ring-buffer.js';
export { createWaitStrategy, type WaitStrategy, type WaitStrategyName } from './runtime/ring/wait-strategy.js';
export type { Actor, ActorContext, ActorFactory } from './runtime/actor.js';
export { hostActor } from './runtime/actor-host.js';
export type { PipelineSpec, StageSpec } from './runtime/supervisor.js';
export type { Message, Envelope } from './messages/envelope.js';
export { Kind, type SyntheticTx, type BlockEvent } from './messages/schema.js';
export { Gateway, type GatewayOptions, type GatewayAddress, type Health, type StatusView } from './gateway/gateway.js';
export { type GatewayConfig, type ApiKeyEntry, type Role, DEFAULT_GATEWAY_CONFIG, hashApiKey } from './gateway/gateway-config.js';
export { createLogger, type Logger, type LogLevel } from './runtime/log.js';
export { TX_TAP_RING } from './engine.js';
export { replay, scanCapture, type ReplayOptions, type ReplayProgress, type ReplayReport, type ReplayRun, ReplayError } from './replay/replay.js';
export { type ReplayOutput, OutputDigest, canonicalJson } from './replay/digest.js';
export { type BacktestReport, type BacktestEntry, backtest } from './replay/backtest.js';
export { CaptureError } from './replay/capture/format.js';
