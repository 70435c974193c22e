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

// Keys that name a credential (Alertmanager's included: a Slack api_url or a PagerDuty routing_key
// is the credential itself), and values that are one whatever their key. Their place is a
// Kubernetes Secret the chart reads: Helm values are stored in the cluster with the release, and
// in Pulumi's state, in plain text.
const credentialKey = /(password|passwd|token|apikey|api_key|secret_key|client_secret|private_key|api_url|webhook_url|routing_key|service_key)$/i;
const credentialValue = [/^[a-z][a-z0-9+.-]*:\/\/[^/\s:@]+:[^/\s@]+@/i, /-----BEGIN [A-Z ]*PRIVATE KEY-----/, /hooks\.slack\.com\/services\//];

/** The paths inside `values` of the non-empty strings that are, or are named as, credentials. */
export function plainTextCredentials(values: unknown, path = ""): string[] {
  if (Array.isArray(values)) return values.flatMap((item, index) => plainTextCredentials(item, `${path}[${index}]`));
  if (typeof values === "string") return credentialValue.some((form) => form.test(values)) ? [path] : [];
  if (!isMap(values)) return [];
  return Object.entries(values).flatMap(([key, value]) => {
    const at = path ? `${path}.${key}` : key;
    return credentialKey.test(key) && typeof value === "string" && value !== "" ? [at] : plainTextCredentials(value, at);
  });
}
