// The generated-password component: secret, and its dynamic provider survives serialisation.
import { expect } from "chai";
import * as pulumi from "@pulumi/pulumi";
import { GeneratedPassword } from "../../components/password";
import { type ProgramRun, runProgram } from "../support/pulumi-mocks";

interface PasswordProvider {
  create(inputs: { length: number }): Promise<{ id: string; outs: { length: number; value: string } }>;
  diff(id: string, olds: { length: number }, news: { length: number }): Promise<{ changes: boolean; replaces: string[] }>;
}

/** Loads the provider from its serialised text, as the engine does on every later update. */
function deserialisedProvider(run: ProgramRun): PasswordProvider {
  const resource = run.resources.find((r) => r.type === "pulumi-nodejs:dynamic/hitcounter:Password");
  const module = { exports: {} as { handler: () => PasswordProvider } };
  new Function("exports", "module", "require", String(resource?.inputs.__provider))(module.exports, module, require);
  return module.exports.handler();
}

describe("GeneratedPassword", () => {
  let run: ProgramRun;
  before(async () => {
    run = await runProgram("dev");
  });

  it("is a secret Output", async () => {
    await pulumi.runtime.setMocks({ newResource: (args) => ({ id: "id", state: { ...args.inputs, value: "x" } }), call: (args) => args.inputs });
    expect(await pulumi.isSecret(new GeneratedPassword("probe").value)).to.equal(true);
  });

  it("serialises to a self-contained provider that makes 32 URL-safe characters, new each time", async () => {
    const provider = deserialisedProvider(run);
    const [first, second] = await Promise.all([provider.create({ length: 32 }), provider.create({ length: 32 })]);
    expect(first.outs.value).to.match(/^[A-Za-z0-9_-]{32}$/);
    expect(first.outs.value).not.to.equal(second.outs.value);
    expect(first.id).not.to.equal(second.id);
  });

  it("keeps the password across updates unless its length changes", async () => {
    const provider = deserialisedProvider(run);
    expect(await provider.diff("id", { length: 32 }, { length: 32 })).to.deep.equal({ changes: false, replaces: [] });
    expect(await provider.diff("id", { length: 32 }, { length: 40 })).to.deep.equal({ changes: true, replaces: ["length"] });
  });
});
