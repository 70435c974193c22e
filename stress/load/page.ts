// What one answer of `GET /` says: the counter value it was given and the pod that served it.

export interface Visit {
  hits: number;
  pod: string;
}

// The HTML variant (and pages like it, e.g. a Flask hit counter's) name the pod in prose; the JSON variant is exact.
const htmlVisit = /visited (\d+) times?\.?\s*Served by pod:\s*(?:<b>)?\s*([^<\s]+)/i;

function parseJsonVisit(text: string): Visit | undefined {
  let json: Partial<Visit>;
  try {
    json = JSON.parse(text) as Partial<Visit>;
  } catch {
    return undefined;
  }
  return Number.isSafeInteger(json.hits) && typeof json.pod === "string"
    ? { hits: json.hits as number, pod: json.pod }
    : undefined;
}

/** Reads a visit from either variant of the page; undefined when the body is neither. */
export function parseVisit(body: string): Visit | undefined {
  const text = body.trimStart();
  if (text.startsWith("{")) return parseJsonVisit(text);
  const match = htmlVisit.exec(text);
  return match ? { hits: Number(match[1]), pod: match[2] } : undefined;
}

/** One `GET /` outside the load (before and after it) to read the counter. */
export async function probeVisit(url: string, timeoutMs = 5000): Promise<Visit> {
  const response = await fetch(url, {
    headers: { accept: "application/json" },
    signal: AbortSignal.timeout(timeoutMs),
  });
  const body = await response.text();
  const visit = response.ok ? parseVisit(body) : undefined;
  if (!visit) throw new Error(`GET ${url} answered ${response.status} without a hit count: ${body.slice(0, 120)}`);
  return visit;
}
