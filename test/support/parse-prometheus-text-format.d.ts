/**
 * Types of `parse-prometheus-text-format` (it ships none): a Prometheus text exposition parsed into
 * metric families, prom2json's shape. Values stay strings, as in the text.
 */
declare module 'parse-prometheus-text-format' {
  /** One sample of a counter, gauge or untyped family. */
  export interface PromSample {
    value: string;
    labels?: Record<string, string>;
    timestamp_ms?: string;
  }

  /**
   * A summary family's samples: the parser folds every `quantile` line into one `quantiles` map
   * and the unlabelled `_sum`/`_count` into `sum`/`count` (labelled `_sum`/`_count` lines of a
   * summary with other labels are left out of its output).
   */
  export interface PromSummarySample {
    quantiles?: Record<string, string>;
    sum?: string;
    count?: string;
    labels?: Record<string, string>;
  }

  export interface PromFamily {
    name: string;
    help: string;
    type: 'COUNTER' | 'GAUGE' | 'SUMMARY' | 'HISTOGRAM' | 'UNTYPED';
    metrics: (PromSample & PromSummarySample & { buckets?: Record<string, string> })[];
  }

  /** Parses an exposition; throws `InvalidLineError` on a line it cannot read. */
  export default function parsePrometheusTextFormat(text: string): PromFamily[];
}
