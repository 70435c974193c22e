import * as path from "node:path";

/** The clone's root: every suite finds the program, scripts and ../shared from here. */
export const projectRoot = path.join(__dirname, "..", "..");

/** The e2e suite's stand-in for kube-prometheus-stack: the CRDs, and the values it was given recorded. */
export const chartStandIn = path.join(projectRoot, "test", "e2e", "charts", "kube-prometheus-stack");
