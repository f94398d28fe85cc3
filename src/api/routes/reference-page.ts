type Json = Record<string, unknown>;

function escape(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** A self-contained HTML reference rendered from the OpenAPI document (no external assets). */
export function renderReference(doc: Json): string {
  const paths = doc.paths as Record<string, Record<string, Json>>;
  const byTag = new Map<string, string[]>();
  for (const [path, operations] of Object.entries(paths)) {
    for (const [method, op] of Object.entries(operations)) {
      const tag = ((op.tags as string[] | undefined) ?? ['Other'])[0] ?? 'Other';
      const params = ((op.parameters as Json[] | undefined) ?? [])
        .map((p) => `<code>${escape(String(p.name))}</code> <small>${escape(String(p.in))}</small>`)
        .join(', ');
      const statuses = Object.keys((op.responses as Json | undefined) ?? {}).join(' ');
      const row =
        `<tr><td><b>${method.toUpperCase()}</b></td><td><code>${escape(path)}</code></td>` +
        `<td>${escape(String(op.summary ?? ''))}<br><small>${escape(String(op.description ?? ''))}</small></td>` +
        `<td>${params}</td><td>${statuses}</td></tr>`;
      byTag.set(tag, [...(byTag.get(tag) ?? []), row]);
    }
  }
  const sections = [...byTag.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(
      ([tag, rows]) =>
        `<h2>${escape(tag)}</h2><table><tr><th>Method</th><th>Path</th><th>Summary</th><th>Parameters</th><th>Responses</th></tr>${rows.join('')}</table>`,
    )
    .join('\n');
  const info = doc.info as Json;
  return `<!doctype html><html><head><meta charset="utf-8"><title>${escape(String(info.title))}</title>
<style>body{font-family:system-ui,sans-serif;margin:2rem;max-width:80rem}table{border-collapse:collapse;width:100%}
td,th{border:1px solid #ddd;padding:.3rem .5rem;text-align:left;vertical-align:top}code{font-size:.9em}</style></head>
<body><h1>${escape(String(info.title))} ${escape(String(info.version))}</h1><p>${escape(String(info.description ?? ''))}</p>
<p>Machine-readable: <a href="/api/v3/api-docs">/api/v3/api-docs</a> · Schemas: <a href="/api/schemas">/api/schemas</a></p>
${sections}</body></html>`;
}
