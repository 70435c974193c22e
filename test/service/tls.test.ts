// Redis over TLS, the way a managed Redis is reached: a real redis-server serving only TLS on loopback,
// with certificates made for the test, and the service as a real process. It counts when the server's
// certificate is signed by the CA it was given and names the host it connects to; it refuses (and
// says why, naming the variable) a certificate from another CA, for another host, or a wrong password.
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import tls from "node:tls";
import { expect } from "chai";
import { RedisServer } from "../support/redis-server";
import { ServiceProcess } from "../support/service-process";
import { CounterStore } from "../../service/src/store";
import { type CertificateAuthority, issueServerCertificate, makeCertificateAuthority, type ServerCertificate } from "../support/tls-certificates";

const password = "tls-test-password";
const wrongPassword = "not-the-password";

describe("service over TLS to a real redis-server", function () {
  this.timeout(60_000);
  let dir: string;
  let ca: CertificateAuthority;
  let otherCa: CertificateAuthority;
  let certificate: ServerCertificate;
  let redis: RedisServer;
  const services: ServiceProcess[] = [];

  /** A service with the TLS settings on top of REDIS_PASSWORD; stopped after the suite. */
  async function spawn(env: Record<string, string>): Promise<ServiceProcess> {
    const service = await ServiceProcess.spawn({ REDIS_PASSWORD: password, LOG_LEVEL: "warn", ...env });
    services.push(service);
    await service.listening();
    return service;
  }

  /** The address the certificate names, TLS on, the CA that signed it. */
  const trusting = () => ({ REDIS_HOST: "localhost", REDIS_PORT: String(redis.port), REDIS_TLS: "true", REDIS_TLS_CA_FILE: ca.certFile });

  before(async function () {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), "redis-tls-"));
    ca = await makeCertificateAuthority(dir, "test-ca");
    otherCa = await makeCertificateAuthority(dir, "other-ca");
    // For the name only: a client that connects by IP address must refuse it.
    certificate = await issueServerCertificate(ca, dir, "redis", ["DNS:localhost"]);
    redis = await RedisServer.start({ password, tls: { ...certificate, caFile: ca.certFile } });
  });
  after(async function () {
    await Promise.all(services.map((service) => service.stop()));
    await redis?.stop();
    if (dir) await fs.rm(dir, { recursive: true, force: true });
  });
  beforeEach(async function () {
    await redis.cli("DEL", "hits");
  });

  it("counts over TLS with REDIS_TLS=true and the CA from REDIS_TLS_CA_FILE, and with a rediss:// REDIS_URL", async function () {
    const byHost = await spawn({ ...trusting(), LOG_LEVEL: "info" });
    await byHost.ready();
    // The startup line says where the CAs came from, not kilobytes of PEM.
    const listening = byHost.logs().find((line) => line.msg === "listening") as { config: { redis: { tls: unknown } } };
    expect(listening.config.redis.tls).to.deep.equal({ caFile: ca.certFile, ca: "[redacted]" });
    for (let expected = 1; expected <= 3; expected++) {
      const response = await fetch(`${byHost.url}/`, { headers: { Accept: "application/json" } });
      expect(response.status).to.equal(200);
      expect(((await response.json()) as { hits: number }).hits).to.equal(expected);
    }
    const byUrl = await spawn({ REDIS_URL: `rediss://localhost:${redis.port}`, REDIS_TLS_CA_FILE: ca.certFile });
    await byUrl.ready();
    const page = await fetch(`${byUrl.url}/`, { headers: { Accept: "application/json" } });
    expect(((await page.json()) as { hits: number }).hits).to.equal(4);
    expect(await redis.cli("GET", "hits")).to.equal("4");
  });

  it("refuses a server whose certificate another CA signed: /readyz 503 with the reason, / 503, the log names REDIS_TLS_CA_FILE", async function () {
    const service = await spawn({ ...trusting(), REDIS_TLS_CA_FILE: otherCa.certFile });
    const reason = `the server's TLS certificate is not signed by a CA in REDIS_TLS_CA_FILE (${otherCa.certFile}): unable to verify the first certificate`;
    expect(await service.readiness(`not ready: Redis is unavailable: ${reason}`)).to.deep.equal({ status: 503, body: `not ready: Redis is unavailable: ${reason}` });
    const page = await fetch(`${service.url}/`);
    expect([page.status, await page.text()]).to.deep.equal([503, "Service Unavailable: the counter store (Redis) is not reachable; try again shortly."]);
    expect(service.redisWarnings()).to.include(reason);
    expect(await redis.cli("GET", "hits")).to.equal("");
  });

  it("without REDIS_TLS_CA_FILE trusts only Node's public CAs, and says to set it", async function () {
    const service = await spawn({ ...trusting(), REDIS_TLS_CA_FILE: "" });
    const reason = "the server's TLS certificate is not signed by a CA Node trusts (set REDIS_TLS_CA_FILE to the server's CA bundle): unable to verify the first certificate";
    expect(await service.readiness(`not ready: Redis is unavailable: ${reason}`)).to.deep.equal({ status: 503, body: `not ready: Redis is unavailable: ${reason}` });
    expect(service.redisWarnings()).to.include(reason);
  });

  it("refuses a certificate that does not name the host it connects to", async function () {
    const service = await spawn({ ...trusting(), REDIS_HOST: "127.0.0.1" });
    const reason =
      "the server's TLS certificate is not for this host (check REDIS_HOST or REDIS_URL): Hostname/IP does not match certificate's altnames: IP: 127.0.0.1 is not in the cert's list: ";
    expect(await service.readiness(`not ready: Redis is unavailable: ${reason}`)).to.deep.equal({ status: 503, body: `not ready: Redis is unavailable: ${reason}` });
    expect((await fetch(`${service.url}/`)).status).to.equal(503);
  });

  it("refuses a wrong password and a missing one, naming REDIS_PASSWORD and showing neither password", async function () {
    const wrong = await spawn({ ...trusting(), REDIS_PASSWORD: wrongPassword });
    const refused = "Redis refused the password (check REDIS_PASSWORD): WRONGPASS invalid username-password pair or user is disabled.";
    expect(await wrong.readiness(`not ready: Redis is unavailable: ${refused}`)).to.deep.equal({ status: 503, body: `not ready: Redis is unavailable: ${refused}` });
    const page = await fetch(`${wrong.url}/`);
    expect([page.status, await page.text()]).to.deep.equal([503, "Service Unavailable: the counter store (Redis) is not reachable; try again shortly."]);
    expect(wrong.redisWarnings()).to.include(refused);

    const missing = await spawn({ ...trusting(), REDIS_PASSWORD: "" });
    const required =
      "Redis requires a password (set REDIS_PASSWORD): NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time";
    expect(await missing.readiness(`not ready: Redis is unavailable: ${required}`)).to.deep.equal({ status: 503, body: `not ready: Redis is unavailable: ${required}` });

    for (const service of [wrong, missing]) {
      expect(service.stdout + service.stderr).not.to.include(wrongPassword);
      expect(service.stdout + service.stderr).not.to.include(password);
    }
    expect(await redis.cli("GET", "hits")).to.equal("");
  });

  it("stops at startup, exit 2, with one line naming REDIS_TLS_CA_FILE, when it is no CA bundle", async function () {
    const missing = path.join(dir, "missing.pem");
    const cases: [Record<string, string>, string][] = [
      [{ REDIS_TLS_CA_FILE: missing }, `invalid configuration: REDIS_TLS_CA_FILE must be a readable file (ENOENT), got "${missing}"`],
      [
        { REDIS_TLS_CA_FILE: certificate.keyFile },
        `invalid configuration: REDIS_TLS_CA_FILE must be a file of PEM certificates (-----BEGIN CERTIFICATE-----), got "${certificate.keyFile}"`,
      ],
    ];
    const runs = cases.map(async ([env, message]) => {
      const service = await ServiceProcess.spawn({ ...trusting(), ...env });
      return { exit: await service.exited, stderr: service.stderr, stdout: service.stdout, message };
    });
    for (const { exit, stderr, stdout, message } of await Promise.all(runs)) {
      expect({ exit, stderr, stdout }).to.deep.equal({ exit: { code: 2, signal: null }, stderr: `${message}\n`, stdout: "" });
    }
  });

  it("sends the host name as SNI, by which managed endpoints behind shared front ends route", async function () {
    const key = await fs.readFile(certificate.keyFile);
    const cert = await fs.readFile(certificate.certFile);
    const names: (string | false | null)[] = [];
    const server = tls.createServer({ key, cert }, (socket) => {
      names.push(socket.servername);
      socket.destroy();
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as { port: number };
    const store = new CounterStore(
      { url: `rediss://localhost:${port}`, password: undefined, tls: { caFile: ca.certFile, ca: await fs.readFile(ca.certFile, "utf8") }, timeoutMs: 1000, waitReplicas: 0 },
      "hits",
      { onError: () => undefined },
    );
    try {
      store.start();
      while (names.length === 0) await sleep(20);
    } finally {
      await store.close();
      server.close();
    }
    expect(names[0]).to.equal("localhost");
  });
});
