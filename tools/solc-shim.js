#!/usr/bin/env node
// Offline stand-in for a native `solc` binary, for py-solc-x (which brownie calls).
// py-solc-x only ever runs `solc --version` and `solc --standard-json [--allow-paths ...]`;
// both are answered through solc-js (the real compiler built to WebAssembly, pinned in
// package.json). Imports are read from disk relative to the project root so that
// brownie's remappings (@openzeppelin=node_modules/@openzeppelin) resolve.
"use strict";
const fs = require("fs");
const path = require("path");

const projectRoot = path.resolve(__dirname, "..");
const solc = require(path.join(projectRoot, "node_modules", "solc"));

function findImport(importPath) {
  const candidates = [path.resolve(projectRoot, importPath), path.resolve(importPath)];
  for (const candidate of candidates) {
    if (fs.existsSync(candidate)) {
      return { contents: fs.readFileSync(candidate, "utf8") };
    }
  }
  return { error: `File not found: ${importPath}` };
}

const args = process.argv.slice(2);
if (args.includes("--version")) {
  // py-solc-x parses the first x.y.z it sees.
  process.stdout.write(`solc, the solidity compiler commandline interface\nVersion: ${solc.version()}\n`);
  process.exit(0);
}
if (!args.includes("--standard-json")) {
  process.stderr.write("solc-shim: only --version and --standard-json are supported\n");
  process.exit(2);
}
let input = "";
process.stdin.setEncoding("utf8");
process.stdin.on("data", (chunk) => (input += chunk));
process.stdin.on("end", () => {
  process.stdout.write(solc.compile(input, { import: findImport }));
});
