// Command-line options of `npm run stress`: parsed, defaulted and validated in one place, so every
// other module receives a plan it can trust.
import { parseArgs } from "node:util";
import * as path from "node:path";
import { checkUrl, PlanError, type Stage, totalSeconds } from "./load/plan";

/** The command line is invalid; the message names the flag. The CLI prints it with the usage. */
export class OptionsError extends Error {}

export interface Options {
  /** Undefined: take the Pulumi stack's `appUrl` output. */
  url?: string;
  stages: Stage[];
  maxRequests: number;
  timeoutSeconds: number;
  reconnectSeconds: number;
  kubeconfig?: string;
  namespace?: string;
  hpa?: string;
  stack?: string;
  inCluster: boolean;
  image?: string;
  out: string;
  help: boolean;
}

// The demo: a little traffic, a surge long enough for the HPA (15 s sync period, plus
// metrics-server's 15-60 s scrape) to add replicas, then a quiet tail to see latency recover.
export const defaultStages = "warm:15s:5,surge:90s:100,cool:30s:5";
const defaultSingleStage = { seconds: 30, connections: 50 };

// Upper bounds keep a typo from turning into an hours-long flood.
const maxTotalSeconds = 3600;
const maxConnections = 1000;

export const usage = `Usage: npm run stress -- [options]

  --url URL            target (default: \`pulumi stack output appUrl\`)
  --stages LIST        ramp as name:duration:connections[:rate],... (default ${defaultStages})
  --duration D         one stage of D (e.g. 45s, 2m) instead of --stages
  --connections N      connections of that single stage (default ${defaultSingleStage.connections})
  --rate R             cap that single stage at R requests/s overall
  --max-requests N     stop after N requests in all (default 1000000)
  --timeout D          a request slower than D is a timeout (default 10s)
  --reconnect D        close and reopen every connection after D (default 10s), as users come and
                       go: a keep-alive connection stays on the pod it reached first, so without
                       this, pods added by the HPA would get no share of the load
  --kubeconfig FILE    watch the HPA and pods through this cluster (default $KUBECONFIG or ~/.kube/config)
  --namespace NS       namespace of the HPA (default: stack output, else "default")
  --hpa NAME           HPA to watch (default: stack output hpaName)
  --stack NAME         Pulumi stack to read outputs from (default: the selected stack)
  --in-cluster         run the load as a Kubernetes Job next to the pods, not from this machine
  --image IMAGE        image of that Job (default: the image the HPA's Deployment runs)
  --out DIR            report folder (default reports/<timestamp>)
`;


/** "30s", "2m", "1m30s" or a bare number of seconds. */
export function parseDuration(text: string, flag: string): number {
  const match = /^(?:(\d+)m)?(?:(\d+)s?)?$/.exec(text.trim());
  const seconds = match ? Number(match[1] ?? 0) * 60 + Number(match[2] ?? 0) : NaN;
  if (!match || text.trim() === "" || !(seconds > 0)) {
    throw new OptionsError(`${flag}: "${text}" is not a duration like 30s, 2m or 1m30s`);
  }
  return seconds;
}

function parsePositiveInt(text: string, flag: string, max = Number.MAX_SAFE_INTEGER): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1 || value > max) {
    throw new OptionsError(`${flag}: "${text}" must be a whole number from 1 to ${max}`);
  }
  return value;
}

/** `warm:10s:5,surge:30s:100:400` → stages; every field is checked and named in the error. */
export function parseStages(text: string): Stage[] {
  const stages = text.split(",").map((spec) => {
    const parts = spec.trim().split(":");
    if (parts.length < 3 || parts.length > 4 || !parts[0]) {
      throw new OptionsError(`--stages: "${spec}" is not name:duration:connections[:rate]`);
    }
    const [name, duration, connections, rate] = parts;
    const stage: Stage = {
      name,
      seconds: parseDuration(duration, `--stages ${name} duration`),
      connections: parsePositiveInt(connections, `--stages ${name} connections`, maxConnections),
    };
    if (rate !== undefined) stage.rate = parsePositiveInt(rate, `--stages ${name} rate`);
    return stage;
  });
  const total = totalSeconds(stages);
  if (total > maxTotalSeconds) {
    throw new OptionsError(`--stages: ${total}s in all is over the ${maxTotalSeconds}s bound`);
  }
  return stages;
}

function timestamp(date: Date): string {
  return date.toISOString().replace(/[:.]/g, "-");
}

export function parseOptions(argv: string[], now = new Date()): Options {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      options: {
        url: { type: "string" },
        stages: { type: "string" },
        duration: { type: "string" },
        connections: { type: "string" },
        rate: { type: "string" },
        "max-requests": { type: "string", default: "1000000" },
        timeout: { type: "string", default: "10s" },
        reconnect: { type: "string", default: "10s" },
        kubeconfig: { type: "string" },
        namespace: { type: "string" },
        hpa: { type: "string" },
        stack: { type: "string" },
        "in-cluster": { type: "boolean", default: false },
        image: { type: "string" },
        out: { type: "string" },
        help: { type: "boolean", short: "h", default: false },
      },
    }));
  } catch (error) {
    throw new OptionsError((error as Error).message);
  }

  const single = values.duration ?? values.connections ?? values.rate;
  if (values.stages !== undefined && single !== undefined) {
    throw new OptionsError("--stages cannot be combined with --duration, --connections or --rate");
  }
  let stages: Stage[];
  if (single === undefined) {
    stages = parseStages(values.stages ?? defaultStages);
  } else {
    const seconds = values.duration ? parseDuration(values.duration, "--duration") : defaultSingleStage.seconds;
    const spec = `load:${seconds}s:${values.connections ?? defaultSingleStage.connections}`;
    stages = parseStages(values.rate ? `${spec}:${values.rate}` : spec);
  }

  if (values.url !== undefined) checkUrlOption(values.url);
  return {
    url: values.url,
    stages,
    maxRequests: parsePositiveInt(values["max-requests"], "--max-requests"),
    timeoutSeconds: parseDuration(values.timeout, "--timeout"),
    reconnectSeconds: parseDuration(values.reconnect, "--reconnect"),
    kubeconfig: values.kubeconfig,
    namespace: values.namespace,
    hpa: values.hpa,
    stack: values.stack,
    inCluster: values["in-cluster"],
    image: values.image,
    out: values.out ?? path.join("reports", timestamp(now)),
    help: values.help,
  };
}

function checkUrlOption(url: string): void {
  try {
    checkUrl(url, "--url");
  } catch (error) {
    throw error instanceof PlanError ? new OptionsError(error.message) : error;
  }
}
