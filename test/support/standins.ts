// What an offline image build needs, from the scripts that make it: the stand-in base images
// (scripts/images/base-images.sh, built on first use) and the CA certificates npm needs behind the egress
// proxy (scripts/images/extra-ca-certs.sh; empty where there is no such proxy).
import { execFileSync } from "node:child_process";
import path from "node:path";

const scripts = path.resolve(__dirname, "..", "..", "scripts");

export interface StandInImages {
  NODE_IMAGE: string;
  REDIS_IMAGE: string;
}

export function standInImages(): StandInImages {
  const lines = execFileSync(path.join(scripts, "images", "base-images.sh"), { encoding: "utf8" }).trim().split("\n");
  return Object.fromEntries(lines.map((line) => line.split("="))) as StandInImages;
}

export function extraCaCerts(): string {
  return execFileSync(path.join(scripts, "images", "extra-ca-certs.sh"), { encoding: "utf8" });
}
