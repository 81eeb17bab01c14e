// The stack a config file stands for in the VM suite: its name (the NAME of Pulumi.NAME.yaml, or
// the file's name without .yaml) and region (the file's aws:region, else eu-west-1), as run.sh and
// mutants.sh render it (`npm run render -- --stack NAME --region REGION`) and as the test bed
// names its SSM endpoint (ssm.REGION.amazonaws.com, params.json aws_region).
// Usage: node stack.js CONFIG   -> prints "NAME REGION"
"use strict";
const fs = require("fs");
const path = require("path");
const { createRequire } = require("module");
// The product's own node_modules has `yaml`.
const YAML = createRequire(path.join(__dirname, "..", "..", "package.json"))("yaml");

const DEFAULT_REGION = "eu-west-1";

function stackOf(configFile) {
    const name = path
        .basename(configFile)
        .replace(/\.ya?ml$/, "")
        .replace(/^Pulumi\./, "");
    const doc = YAML.parse(fs.readFileSync(configFile, "utf8")) || {};
    const region = (doc.config || {})["aws:region"] || DEFAULT_REGION;
    return { name, region };
}

module.exports = { stackOf, DEFAULT_REGION };

if (require.main === module) {
    const { name, region } = stackOf(process.argv[2]);
    process.stdout.write(`${name} ${region}\n`);
}
