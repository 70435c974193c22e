// The dev loop without Kubernetes (docs/service.md), run for real: `docker compose` (the CLI plugin scripts/toolchain/tools.sh builds) on
// compose.yaml, with the offline stand-in base images through the file's image variables.
import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { promisify } from "node:util";
import { expect } from "chai";
import { freePort } from "../support/net";
import { extraCaCerts, standInImages } from "../support/standins";
import { projectRoot } from "../support/paths";

const dockerConfig = path.join(projectRoot, ".tools", "docker");
const project = "hitcounter-compose-test";

async function run(command: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<string> {
  const { stdout } = await promisify(execFile)(command, args, {
    cwd: projectRoot,
    env: { ...process.env, ...env },
    encoding: "utf8",
    maxBuffer: 16 * 1024 * 1024,
  });
  return stdout;
}

describe("docker compose dev loop (compose.yaml)", function () {
  this.timeout(600_000);
  let env: NodeJS.ProcessEnv;
  let port: number;

  const compose = (...args: string[]) => run("docker", ["compose", "--project-name", project, ...args], env);

  async function hit(): Promise<{ hits: number }> {
    const response = await fetch(`http://127.0.0.1:${port}/`, { headers: { accept: "application/json" } });
    expect(response.status).to.equal(200);
    return (await response.json()) as { hits: number };
  }

  before(async function () {
    if (!fs.existsSync(path.join(dockerConfig, "cli-plugins", "docker-compose"))) {
      throw new Error(`no docker compose plugin in ${dockerConfig}/cli-plugins: run scripts/toolchain/tools.sh`);
    }
    await run(path.join(projectRoot, "scripts", "setup", "dockerd.sh"), []);
    const images = standInImages();
    port = await freePort();
    env = {
      DOCKER_CONFIG: dockerConfig,
      NODE_IMAGE: images.NODE_IMAGE,
      REDIS_IMAGE: images.REDIS_IMAGE,
      NPM_CA_PEM: extraCaCerts(),
      BACKEND_IMAGE: `${project}-backend:test`,
      PORT: String(port),
    };
  });

  after(async function () {
    if (env) await compose("down", "--volumes", "--rmi", "local").catch(() => undefined);
  });

  it("`docker compose config` accepts the file and resolves the image variables", async function () {
    const config = JSON.parse(await compose("config", "--format", "json")) as {
      services: Record<string, { image: string; build?: { args: Record<string, string> }; read_only?: boolean; cap_drop?: string[] }>;
    };
    expect(Object.keys(config.services).sort()).to.deep.equal(["backend", "redis"]);
    expect(config.services.backend.build?.args.NODE_IMAGE).to.equal(env.NODE_IMAGE);
    expect(config.services.backend).to.include({ image: env.BACKEND_IMAGE, read_only: true });
    expect(config.services.backend.cap_drop).to.deep.equal(["ALL"]);
    expect(config.services.redis.image).to.equal(env.REDIS_IMAGE);
  });

  it("`docker compose up --build` serves the counter: 1, then 2", async function () {
    await compose("up", "--build", "--detach", "--wait");
    expect((await hit()).hits).to.equal(1);
    expect((await hit()).hits).to.equal(2);
  });

  it("`docker compose down` leaves no container or network behind", async function () {
    await compose("down", "--volumes");
    const label = `label=com.docker.compose.project=${project}`;
    expect((await run("docker", ["ps", "--all", "--quiet", "--filter", label])).trim()).to.equal("");
    expect((await run("docker", ["network", "ls", "--quiet", "--filter", label])).trim()).to.equal("");
  });
});
