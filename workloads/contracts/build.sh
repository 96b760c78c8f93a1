#!/usr/bin/env bash
# Recompiles the contracts with solc from npm (`npm install -g solc@0.8.28`)
# and writes <Name>.bin-runtime (the runtime bytecode the workloads deploy)
# into the directory given (default: this one).
set -euo pipefail
cd "$(dirname "$0")"
dest="${1:-.}"
for name in Token Pool; do
    node -e '
        const fs = require("fs");
        const name = process.argv[1];
        console.log(JSON.stringify({
            language: "Solidity",
            sources: { [name + ".sol"]: { content: fs.readFileSync(name + ".sol", "utf8") } },
            settings: {
                optimizer: { enabled: true, runs: 200 },
                metadata: { bytecodeHash: "none" },
                outputSelection: { "*": { "*": ["evm.deployedBytecode.object"] } },
            },
        }));' "$name" |
        solcjs --standard-json |
        node -e '
            const name = process.argv[1];
            const text = require("fs").readFileSync(0, "utf8"); const out = JSON.parse(text.slice(text.indexOf("{")));
            for (const e of out.errors || []) if (e.severity === "error") { console.error(e.formattedMessage); process.exit(2); }
            process.stdout.write(out.contracts[name + ".sol"][name].evm.deployedBytecode.object);' "$name" \
        > "$dest/$name.bin-runtime"
done
