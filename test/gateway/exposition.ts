import assert from 'node:assert/strict';
import parsePrometheusTextFormat, { type PromFamily } from 'parse-prometheus-text-format';

/**
 * Parses a Prometheus text exposition (format 0.0.4) with `parse-prometheus-text-format` and
 * checks what that lenient parser lets through: every family once (not split), typed and with
 * help, valid metric and label names, valid float values, non-negative counters, and no sample
 * line lost (it silently merges repeated label sets). Returns the families by name.
 */
export function parseExposition(text: string): Map<string, PromFamily> {
  assert.ok(text.endsWith('\n'), 'an exposition ends with a line feed');
  const families = parsePrometheusTextFormat(text);
  const byName = new Map<string, PromFamily>();
  for (const f of families) {
    assert.ok(!byName.has(f.name), `family ${f.name} appears twice (its lines are not contiguous)`);
    byName.set(f.name, f);
    assert.match(f.name, /^[a-zA-Z_:][a-zA-Z0-9_:]*$/, `metric name ${f.name}`);
    assert.ok(['COUNTER', 'GAUGE', 'SUMMARY'].includes(f.type), `family ${f.name} has type ${f.type} (a sample without its # TYPE, or a name outside its family)`);
    assert.ok(f.help.length > 0, `family ${f.name} has no help`);
    assert.ok(f.metrics.length > 0, `family ${f.name} has no samples`);
    for (const m of f.metrics) {
      for (const k of Object.keys(m.labels ?? {})) assert.match(k, /^[a-zA-Z_][a-zA-Z0-9_]*$/, `label name ${k} of ${f.name}`);
      assert.ok(!Object.keys(m.labels ?? {}).some((k) => k.startsWith('__')), `reserved label name in ${f.name}`);
      const values = f.type === 'SUMMARY' ? [...Object.values(m.quantiles ?? {}), ...(m.sum === undefined ? [] : [m.sum]), ...(m.count === undefined ? [] : [m.count])] : [m.value];
      for (const v of values) {
        assert.ok(v !== undefined && isPromFloat(v), `value ${JSON.stringify(v)} of ${f.name}${JSON.stringify(m.labels ?? {})}`);
        if (f.type === 'COUNTER') assert.ok(Number(v) >= 0, `counter ${f.name}${JSON.stringify(m.labels ?? {})} is negative: ${v}`);
      }
    }
  }
  // Counter and gauge samples map one to one onto sample lines; a repeated label set would be merged away.
  const lines = text.split('\n').filter((l) => l.length > 0 && !l.startsWith('#'));
  for (const f of families) {
    if (f.type === 'SUMMARY') continue;
    const n = lines.filter((l) => l.startsWith(`${f.name} `) || l.startsWith(`${f.name}{`)).length;
    assert.equal(f.metrics.length, n, `family ${f.name}: ${n} sample lines but ${f.metrics.length} distinct samples (a repeated label set?)`);
  }
  return byName;
}

/**
 * The samples of summary `name` with their labels, which the parser's summary folding drops (it
 * merges every label set's quantiles into one map): the text is re-read with the summary typed
 * `untyped`, so `name`, `name_sum` and `name_count` come back as plain labelled samples.
 */
export function summarySamples(text: string, name: string): { quantiles: Map<string, number>; sum: Map<string, number>; count: Map<string, number> } {
  const typeLine = `# TYPE ${name} summary`;
  assert.ok(text.split('\n').includes(typeLine), `no summary ${name}`);
  // Untyped, each label set's `_sum` and `_count` lines start families of their own, and the
  // quantile lines after them another one of `name`: gather them by name.
  const out = { quantiles: new Map<string, number>(), sum: new Map<string, number>(), count: new Map<string, number>() };
  const into: Record<string, Map<string, number>> = { [name]: out.quantiles, [`${name}_sum`]: out.sum, [`${name}_count`]: out.count };
  for (const f of parsePrometheusTextFormat(text.split('\n').map((l) => (l === typeLine ? `# TYPE ${name} untyped` : l)).join('\n'))) {
    const m = into[f.name];
    if (m === undefined) continue;
    for (const s of f.metrics) {
      const key = labelKey(s.labels ?? {});
      assert.ok(!m.has(key), `${f.name}${key} appears twice`);
      assert.ok(isPromFloat(s.value), `value ${s.value} of ${f.name}${key}`);
      m.set(key, Number(s.value));
    }
  }
  return out;
}

/** A sample value as the text format spells it: a Go float, or NaN / ±Inf. */
export function isPromFloat(v: string): boolean {
  return /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/.test(v) || /^(?:[+-]?Inf|NaN)$/.test(v);
}

/** The samples of `name` as `labels → value`, label sets serialized in key order. */
export function samples(families: Map<string, PromFamily>, name: string): Map<string, number> {
  const f = families.get(name);
  assert.ok(f, `no family ${name}; families: ${[...families.keys()].join(', ')}`);
  const out = new Map<string, number>();
  for (const m of f.metrics) out.set(labelKey(m.labels ?? {}), Number(m.value));
  return out;
}

/** `{a="x",b="y"}` with keys sorted (or '' for none), to look samples up by their labels. */
export function labelKey(labels: Record<string, string>): string {
  const keys = Object.keys(labels).sort();
  return keys.length === 0 ? '' : `{${keys.map((k) => `${k}=${JSON.stringify(labels[k])}`).join(',')}}`;
}
