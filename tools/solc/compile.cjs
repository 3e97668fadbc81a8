// Compiles one Solidity file with solc-js (wasm, offline) and writes <ContractName>.bin (the
// creation bytecode as hex) and <ContractName>.abi.json (the ABI, indented) into <out-dir>.
// Usage: node compile.cjs <file.sol> <ContractName> <out-dir>   (run by `cargo xtask contract`)
"use strict";
const fs = require("fs");
const path = require("path");
const solc = require("solc");

const [file, name, outDir] = process.argv.slice(2);
if (!file || !name || !outDir) {
  console.error("usage: node compile.cjs <file.sol> <ContractName> <out-dir>");
  process.exit(2);
}
const source = path.basename(file);
const input = {
  language: "Solidity",
  sources: { [source]: { content: fs.readFileSync(file, "utf8") } },
  settings: {
    optimizer: { enabled: true, runs: 200 },
    evmVersion: "shanghai",
    outputSelection: { "*": { "*": ["abi", "evm.bytecode.object"] } },
  },
};
const output = JSON.parse(solc.compile(JSON.stringify(input)));
const errors = (output.errors || []).filter((e) => e.severity === "error");
for (const e of output.errors || []) console.error(e.formattedMessage);
if (errors.length > 0) process.exit(1);
const contract = output.contracts[source][name];
if (!contract) {
  console.error(`no contract ${name} in ${file}`);
  process.exit(1);
}
fs.writeFileSync(path.join(outDir, `${name}.bin`), contract.evm.bytecode.object + "\n");
fs.writeFileSync(path.join(outDir, `${name}.abi.json`), JSON.stringify(contract.abi, null, 2) + "\n");
console.error(`compiled ${name} with solc ${solc.version()}`);
