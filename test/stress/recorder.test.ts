// Per-second buckets and per-stage totals, on a clock the test moves by hand.
import { expect } from "chai";
import { percentile, Recorder } from "../../stress/load/recorder";
import type { Bucket } from "../../stress/load/series";
import { parseVisit } from "../../stress/load/page";

describe("stress: recorder", () => {
  it("uses nearest-rank percentiles", () => {
    const values = Array.from({ length: 100 }, (_, i) => i + 1);
    expect([50, 90, 99, 100].map((p) => percentile(values, p))).to.deep.equal([50, 90, 99, 100]);
    expect(percentile([], 50)).to.equal(null);
  });

  it("closes one bucket a second, quiet seconds included, and totals each stage", () => {
    let now = 0;
    const buckets: Bucket[] = [];
    const recorder = new Recorder((b) => buckets.push(b), () => now);
    recorder.beginStage({ name: "warm", seconds: 1, connections: 1 });
    recorder.sent();
    recorder.sent();
    recorder.answer(200, 5);
    recorder.visit({ hits: 7, pod: "pod-a" });
    recorder.failure("ECONNRESET");
    now = 2500; // a silent second in between
    recorder.beginStage({ name: "surge", seconds: 1, connections: 2, rate: 10 });
    recorder.sent();
    recorder.answer(503, 40);
    recorder.sent();
    recorder.answer(200, 20);
    recorder.visit({ hits: 9, pod: "pod-b" });
    now = 3200;
    recorder.finish();

    expect(buckets.map((b) => [b.t, b.stage, b.answered, b.ok])).to.deep.equal([
      [0, "warm", 1, 1],
      [1, "warm", 0, 0],
      [2, "surge", 2, 1],
    ]); // the last, partial second is kept only if something happened in it
    expect(buckets[0]).to.deep.include({ errors: { ECONNRESET: 1 }, pods: { "pod-a": 1 }, p50: 5 });
    expect(buckets[1]).to.include({ p50: null, max: null });
    expect(buckets[2]).to.deep.include({ errors: { "http 503": 1 }, p50: 20, max: 40 });

    const { stages, total } = recorder.totals();
    expect(stages.map((s) => [s.stage, s.sent, s.answered, s.ok, s.seconds])).to.deep.equal([
      ["warm", 2, 1, 1, 2.5],
      ["surge", 2, 2, 1, 0.7],
    ]);
    expect(total).to.deep.include({ sent: 4, answered: 3, ok: 2, errors: { ECONNRESET: 1, "http 503": 1 }, p50: 20, max: 40 });
    expect(recorder.pods).to.deep.equal({ "pod-a": 1, "pod-b": 1 });
    expect([recorder.seenMin, recorder.seenMax]).to.deep.equal([7, 9]);
  });

  it("reads the pod and count from the JSON and the HTML page", () => {
    expect(parseVisit('{"hits":42,"pod":"web-1"}')).to.deep.equal({ hits: 42, pod: "web-1" });
    expect(parseVisit("Hello! This page has been visited 40 times. Served by pod: <b>web-6d86bf6f4f-8ppcq</b>")).to.deep.equal({
      hits: 40,
      pod: "web-6d86bf6f4f-8ppcq",
    });
    expect(parseVisit("Internal Server Error")).to.equal(undefined);
    expect(parseVisit('{"error":"redis down"}')).to.equal(undefined);
  });
});
