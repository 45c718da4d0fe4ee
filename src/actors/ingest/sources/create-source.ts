import type { IngestSourceConfig } from '../ingest-config.js';
import { CaptureFileSource } from './capture-source.js';
import { RpcWsSource } from './rpc-ws.js';
import type { Source, SourceSink } from './source.js';

/** Builds the source a config entry describes. `onFinished` fires when a finite source (a capture) has delivered everything. */
export function createSource(id: number, cfg: IngestSourceConfig, sink: SourceSink, onFinished: () => void, gate?: SharedArrayBuffer): Source {
  switch (cfg.kind) {
    case 'rpc-ws': {
      const { kind: _kind, ...options } = cfg;
      return new RpcWsSource(id, options, sink);
    }
    case 'capture':
      return new CaptureFileSource(id, cfg.name, { path: cfg.path, speed: cfg.speed, onFinished, ...(gate ? { gate } : {}) }, sink);
  }
}
