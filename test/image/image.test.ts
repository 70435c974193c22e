// The service image, built by a real dockerd from the offline stand-in base image and run the way
// the cluster runs it: read-only root, non-root UID, no capabilities, no privilege escalation.
import { execFile } from "node:child_process";
import path from "node:path";
import { promisify } from "node:util";
import { expect } from "chai";
import { freePort, waitForPort } from "../support/net";
import { RedisServer } from "../support/redis-server";
import { projectRoot as root } from "../support/paths";

const tag = "hit-counter-service:image-test";
const run = promisify(execFile);

async function docker(...args: string[]): Promise<string> {
  const { stdout } = await run("docker", args, { maxBuffer: 64 * 1024 * 1024 });
  return stdout.trim();
}

describe("service image", function () {
  this.timeout(900_000);
  let redis: RedisServer;
  let container: string | undefined;
  let port: number;

  before(async function () {
    await run(path.join(root, "scripts/images/build-service-image.sh"), [tag], { cwd: root, maxBuffer: 64 * 1024 * 1024 });
    redis = await RedisServer.start();
  });
  after(async function () {
    if (container) await docker("rm", "-f", container);
    await redis?.stop();
  });

  it("runs read-only, as UID 10001 with no capabilities, and counts against Redis", async function () {
    port = await freePort();
    // Host networking: the container reaches the test's redis-server on the host loopback.
    container = await docker(
      "run", "-d", "--network", "host", "--read-only", "--user", "10001:10001",
      "--cap-drop", "ALL", "--security-opt", "no-new-privileges",
      "-e", `PORT=${port}`, "-e", `REDIS_URL=${redis.url}`,
      tag,
    );
    await waitForPort(port, 30_000);
    const pages: string[] = [];
    for (let i = 0; i < 2; i++) {
      const response = await fetch(`http://127.0.0.1:${port}/`);
      expect(response.status).to.equal(200);
      pages.push(await response.text());
    }
    expect(pages[0]).to.match(/^Hello! This page has been visited 1 times\. Served by pod: <b>[^<]+<\/b>$/);
    expect(pages[1]).to.match(/^Hello! This page has been visited 2 times\./);
    expect(await docker("exec", container, "id", "-u")).to.equal("10001");
  });

  it("is built to run as non-root without being told to", async function () {
    expect(await docker("image", "inspect", "--format", "{{.Config.User}}", tag)).to.equal("10001:10001");
  });

  it("stops on SIGTERM with exit code 0, node being PID 1", async function () {
    expect(container, "the container from the first test").to.be.a("string");
    const id = container as string;
    expect(await docker("exec", id, "sh", "-c", "tr '\\0' ' ' </proc/1/cmdline")).to.match(/^node (--\S+ )*dist\/server\.js$/);
    await docker("stop", "--time", "20", id);
    expect(await docker("inspect", "--format", "{{.State.ExitCode}}", id)).to.equal("0");
  });

  it("holds no CA certificate, sources, tests, dev dependencies or npm", async function () {
    const history = await docker("history", "--no-trunc", "--format", "{{.CreatedBy}}", tag);
    expect(history).not.to.include("BEGIN CERTIFICATE");
    expect(history).not.to.include("NPM_CA_PEM");
    expect(await docker("image", "inspect", "--format", "{{json .Config.Env}}", tag)).not.to.include("CERT");

    const inImage = (script: string) => docker("run", "--rm", "--entrypoint", "sh", tag, "-c", script);
    expect(await inImage("ls /app")).to.equal("dist\nnode_modules\npackage.json");
    const modules = (await inImage("ls /app/node_modules")).split("\n");
    for (const runtime of ["koa", "@redis", "prom-client", "pino"]) expect(modules).to.include(runtime);
    for (const devOnly of ["typescript", "tsx", "mocha", "chai"]) expect(modules).not.to.include(devOnly);
    expect(await inImage("find /app/node_modules/@types -mindepth 1 2>/dev/null || true")).to.equal("");
    expect(await inImage("find /app -path /app/node_modules -prune -o -name '*.ts' -print")).to.equal("");
    expect(await inImage("command -v npm npx corepack || true")).to.equal("");
    expect(await inImage("find / -xdev -name 'npm-ca.pem' 2>/dev/null || true")).to.equal("");
  });
});
