// The one statistics module every benchmark summarises its runs with (scripts/bench/stats.ts).
import { expect } from "chai";
import { median, spread } from "../../scripts/bench/stats";

describe("benchmark statistics (scripts/bench/stats.ts)", () => {
  it("takes the middle value of an odd number of runs, in any order", () => {
    expect(median([30, 10, 20])).to.equal(20);
    expect(median([7])).to.equal(7);
  });

  it("takes the mean of the two middle values of an even number of runs", () => {
    expect(median([4, 1, 3, 2])).to.equal(2.5);
    expect(median([1358, 1728])).to.equal(1543);
  });

  it("leaves the runs it is given in their order", () => {
    const runs = [3, 1, 2];
    median(runs);
    expect(runs).to.deep.equal([3, 1, 2]);
  });

  it("writes median (min–max) to the digits asked for", () => {
    expect(spread([1237, 1728, 1358], 0)).to.equal("1358 (1237–1728)");
    expect(spread([0.5, 0.25], 3)).to.equal("0.375 (0.250–0.500)");
  });
});
