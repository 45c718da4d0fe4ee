import type { StatusView } from './gateway.js';

function esc(s: unknown): string {
  return String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/**
 * The small live status page at `GET /`: health, per-stage p50/p99 and the latest opportunities.
 * Plain HTML that reloads itself every 2 s (the key stays in the URL it was opened with).
 */
export function statusPage(v: StatusView, token: string): string {
  const stageRows = Object.entries(v.stages)
    .map(([name, s]) => `<tr><td>${esc(name)}</td><td>${esc(s.status)}</td><td>${s.records}</td><td>${s.serviceP50Us}</td><td>${s.serviceP99Us}</td><td>${s.queueWaitP50Us}</td><td>${s.queueWaitP99Us}</td></tr>`)
    .join('');
  const opps = (v.recent as { id: string; kind: string; targetBlock: number; verification: string; profit: { netWei: string }; victimHashes: string[] }[])
    .map((o) => `<tr><td><code>${esc(o.id.slice(0, 18))}…</code></td><td>${esc(o.kind)}</td><td>${o.targetBlock}</td><td>${esc(o.verification)}</td><td>${esc(o.profit.netWei)}</td><td><code>${esc(o.victimHashes[0]?.slice(0, 14) ?? '')}…</code></td></tr>`)
    .join('');
  const counts = Object.entries(v.opportunities)
    .map(([k, n]) => `${esc(k)}: ${n}`)
    .join(' · ');
  const refresh = `2;url=/?token=${encodeURIComponent(token)}`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta http-equiv="refresh" content="${esc(refresh)}">
<title>Orion status</title>
<style>body{font:14px system-ui,sans-serif;margin:2em;color:#222}table{border-collapse:collapse;margin:1em 0}td,th{padding:.25em .8em;border-bottom:1px solid #ddd;text-align:right}td:first-child,th:first-child{text-align:left}.ok{color:#080}.bad{color:#b00}</style>
</head><body>
<h1>Orion <span class="${v.health.status === 'ok' ? 'ok' : 'bad'}">${esc(v.health.status)}</span></h1>
<p>head block ${esc(v.health.node.headBlock ?? '–')} · uptime ${esc(v.health.uptimeSec.toFixed(0))} s · websocket clients ${v.clients} · secp256k1 ${v.health.secp256k1.native ? 'native' : 'pure JS'}</p>
${v.health.problems.length > 0 ? `<p class="bad">${v.health.problems.map(esc).join('<br>')}</p>` : ''}
<h2>Stages (µs)</h2>
<table><tr><th>stage</th><th>status</th><th>records</th><th>service p50</th><th>service p99</th><th>queue p50</th><th>queue p99</th></tr>${stageRows}</table>
<h2>Opportunities</h2><p>${counts || 'none yet'}</p>
<table><tr><th>id</th><th>kind</th><th>block</th><th>verification</th><th>net profit (wei)</th><th>victim</th></tr>${opps}</table>
</body></html>
`;
}
