// Test bed: a copy of a stack config with one user marked revoked (users[N].revoked: true), so
// that `npm run render` into a directory holding the first render's pki-state.json makes the
// parameters `pulumi up` would write after that change (the CRL with the user's certificate).
// Usage: node revoke-user.js CONFIG OUT NAME
"use strict";
const fs = require("fs");
const path = require("path");
const { createRequire } = require("module");
const YAML = createRequire(path.join(__dirname, "..", "..", "package.json"))("yaml");
const [configFile, out, name] = process.argv.slice(2);
const doc = YAML.parseDocument(fs.readFileSync(configFile, "utf8"));
const users = doc.getIn(["config", "vpn-gateway:users"]);
const i = users ? users.items.findIndex((u) => u.get("name") === name) : -1;
if (i < 0) throw new Error(`${configFile}: no user ${name}`);
doc.setIn(["config", "vpn-gateway:users", i, "revoked"], true);
fs.writeFileSync(out, String(doc));
