// The Pulumi program's entry point: everything lives in components/ (stack.ts composes it); this
// file only turns the outputs into stack outputs.
import { deployHitCounter } from "./components/program";

const outputs = deployHitCounter();

export const namespace = outputs.namespace;
export const imageReference = outputs.imageReference;
export const appService = outputs.appService;
export const appPortForward = outputs.appPortForward;
export const appUrl = outputs.appUrl;
export const hpaName = outputs.hpaName;
export const grafanaPortForward = outputs.grafanaPortForward;
export const grafanaAdminPasswordCommand = outputs.grafanaAdminPasswordCommand;
