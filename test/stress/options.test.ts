// The command line: stages, durations and bounds, each bad value named in its message.
import { expect } from "chai";
import { defaultStages, OptionsError, parseDuration, parseOptions, parseStages } from "../../stress/options";
import { appUrlOf } from "../../stress/stack-outputs";

describe("stress: options", () => {
  it("parses ramp stages with an optional rate", () => {
    expect(parseStages("warm:10s:5,surge:1m30s:100:400")).to.deep.equal([
      { name: "warm", seconds: 10, connections: 5 },
      { name: "surge", seconds: 90, connections: 100, rate: 400 },
    ]);
  });

  it("defaults to the demo profile (warm, surge, cool), and to reports/<timestamp>", () => {
    const options = parseOptions(["--url", "http://127.0.0.1:8080/"], new Date("2026-01-02T03:04:05.678Z"));
    expect(options.stages).to.deep.equal(parseStages(defaultStages));
    expect(options.out).to.equal("reports/2026-01-02T03-04-05-678Z");
    expect(options).to.include({ maxRequests: 1_000_000, timeoutSeconds: 10, inCluster: false });
  });

  it("turns --duration, --connections and --rate into one stage", () => {
    expect(parseOptions(["--duration", "2m", "--connections", "20", "--rate", "300"]).stages).to.deep.equal([
      { name: "load", seconds: 120, connections: 20, rate: 300 },
    ]);
  });

  it("names the flag and the value it rejects", () => {
    const rejects = (argv: string[], message: RegExp) => expect(() => parseOptions(argv)).to.throw(OptionsError, message);
    rejects(["--stages", "warm:10s"], /--stages: "warm:10s" is not name:duration:connections/);
    rejects(["--stages", "warm:10x:5"], /--stages warm duration: "10x" is not a duration/);
    rejects(["--stages", "surge:10s:5000"], /--stages surge connections: "5000" must be a whole number from 1 to 1000/);
    rejects(["--stages", "a:40m:5,b:30m:5"], /4200s in all is over the 3600s bound/);
    rejects(["--stages", "a:1s:1", "--duration", "5s"], /cannot be combined/);
    rejects(["--url", "ftp://x"], /--url: "ftp:\/\/x" must be http/);
    rejects(["--max-requests", "0"], /--max-requests/);
    rejects(["--bogus"], /Unknown option '--bogus'/);
    expect(() => parseDuration("0s", "--timeout")).to.throw(/--timeout: "0s"/);
  });

  it("takes the stack's appUrl only when it is a URL, and says what to do otherwise", () => {
    expect(appUrlOf({ appUrl: "http://192.168.49.2:30080" })).to.equal("http://192.168.49.2:30080");
    expect(() =>
      appUrlOf({ appUrl: "none: a ClusterIP Service; use appPortForward", appPortForward: "kubectl -n hitcounter port-forward svc/hit-counter 8080:80" }),
    ).to.throw(OptionsError, /run `kubectl -n hitcounter port-forward svc\/hit-counter 8080:80` and pass --url http:\/\/localhost:8080/);
  });
});
