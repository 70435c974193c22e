// The Pulumi program's entry point: everything lives in components/ (program.ts composes it); this
// file only hands its outputs to Pulumi as the stack's outputs.
import { deployHitCounter } from "./components/program";

export = deployHitCounter();
