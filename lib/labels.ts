/**
 * Container labels as docker keeps them: a map, the image's labels first, then the ones given
 * (`-l KEY=VALUE`, `-l KEY` for an empty value), a later KEY overriding an earlier one. Keys
 * sorted, as Go writes a map in JSON (inspect's Config.Labels).
 */
export function labelMap(imageLabels: Record<string, string> | null | undefined, given: string[] = []): Record<string, string> {
  const labels: Record<string, string> = { ...(imageLabels ?? {}) };
  for (const entry of given) {
    const eq = entry.indexOf('=');
    if (eq < 0) labels[entry] = '';
    else labels[entry.slice(0, eq)] = entry.slice(eq + 1);
  }
  return Object.fromEntries(Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}
