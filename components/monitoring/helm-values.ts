// How Helm combines values: a chart's values.yaml with a release's, and one values file with the
// next (`helm -f ours.yaml -f theirs.yaml`).

/** A values tree as Helm reads it from YAML. */
export type HelmValues = Record<string, unknown>;

/** Helm's merge of `over` into `base`: maps merge key by key, anything else replaces. */
export function helmMerge(base: unknown, over: unknown): unknown {
  if (!isMap(base) || !isMap(over)) return over;
  const merged = { ...base };
  for (const [key, value] of Object.entries(over)) merged[key] = helmMerge(base[key], value);
  return merged;
}

export function isMap(value: unknown): value is HelmValues {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}
