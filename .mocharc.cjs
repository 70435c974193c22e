// `npm test`: every suite under test/ except the tiers that need more than a clone (a cluster, the
// toolchain, Docker, ../shared). A tier is a folder with a .mocharc.json of its own, run by its own
// `npm run test:<tier>`; adding one is adding that file, with no list to keep in step here.
const fs = require("node:fs");

const tiers = fs.readdirSync("test").filter((folder) => fs.existsSync(`test/${folder}/.mocharc.json`));

module.exports = {
  "node-option": ["import=tsx"],
  extension: ["ts"],
  spec: ["test/**/*.test.ts"],
  ignore: tiers.map((tier) => `test/${tier}/**`),
  timeout: 30000,
  reporter: "spec",
};
