// bench:memory measures the service as the image runs it, read from service/Dockerfile: the reading
// must keep up with the Dockerfile, or the benchmark would measure some other command.
import { expect } from "chai";
import { imageCommand } from "../../scripts/bench/image-command";

describe("the image's command, as the benchmarks read it (scripts/bench/image-command.ts)", () => {
  it("finds node's flags in CMD and the environment in ENV, less the port", () => {
    const { nodeArgs, env } = imageCommand();
    expect(nodeArgs.every((arg) => arg.startsWith("--"))).to.equal(true);
    expect(env.NODE_ENV).to.equal("production");
    expect(env).not.to.have.property("PORT");
  });
});
