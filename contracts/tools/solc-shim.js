#!/usr/bin/env node
// Lets forge drive solc-js as if it were a native solc binary.
// forge asks `--version` first (to learn the compiler version), then sends the
// standard-JSON input on stdin with `--standard-json`. solc-js has no native
// binary on this machine, so this shim answers both, resolving imports against
// the project root and forge's remappings (as passed in the input settings).
"use strict";
const fs = require("fs");
const path = require("path");
const solc = require("solc");

const root = path.resolve(__dirname, "..");

function nativeVersion() {
  // solc-js reports e.g. "0.8.37+commit.f401782d.Emscripten.clang"; forge parses
  // the native format, so the platform suffix is rewritten.
  const v = solc.version().replace(/\.Emscripten\.clang$/, ".Linux.g++");
  return `solc, the solidity compiler commandline interface\nVersion: ${v}\n`;
}

if (process.argv.includes("--version")) {
  process.stdout.write(nativeVersion());
  process.exit(0);
}

const input = fs.readFileSync(0, "utf8");
const parsed = JSON.parse(input);
const remappings = ((parsed.settings && parsed.settings.remappings) || []).map((r) => {
  const [ctxAndPrefix, target] = r.split("=");
  const prefix = ctxAndPrefix.includes(":") ? ctxAndPrefix.split(":")[1] : ctxAndPrefix;
  return [prefix, target];
});
const basePaths = [root, process.cwd()];
for (let i = 0; i < process.argv.length; i++) {
  const a = process.argv[i];
  if ((a === "--base-path" || a === "--include-path" || a === "--allow-paths") && process.argv[i + 1]) {
    for (const p of process.argv[i + 1].split(",")) basePaths.push(path.resolve(p));
  }
}

function findImports(importPath) {
  const candidates = [];
  for (const [prefix, target] of remappings) {
    if (importPath.startsWith(prefix)) candidates.push(target + importPath.slice(prefix.length));
  }
  candidates.push(importPath);
  for (const c of candidates) {
    const options = path.isAbsolute(c) ? [c] : basePaths.map((b) => path.join(b, c));
    for (const p of options) {
      if (fs.existsSync(p) && fs.statSync(p).isFile()) {
        return { contents: fs.readFileSync(p, "utf8") };
      }
    }
  }
  return { error: `File not found: ${importPath}` };
}

process.stdout.write(solc.compile(input, { import: findImports }));
