// Test bed: a copy of a stack config with one change, rendered with `npm run render` into a
// directory holding the first render's pki-state.json (what `pulumi up` does after that change).
//   node bed-config.js CONFIG OUT add-devices NAME  adds user NAME: methods ["ikev2"], devices
//                                                    laptop and phone (certificates NAME.laptop and
//                                                    NAME.phone); refused if NAME is taken
//   node bed-config.js CONFIG OUT add-solo NAME     adds user NAME: methods ["ikev2"], one certificate
//   node bed-config.js CONFIG OUT revoke NAME       marks user NAME revoked (users[N].revoked: true)
// An IKEv2-only user changes no byte the gateway gets (its certificate is checked against the CA;
// it has no L2TP login): the user-data and parameters stay those of CONFIG alone.
"use strict";
const fs = require("fs");
const path = require("path");
const { createRequire } = require("module");
const YAML = createRequire(path.join(__dirname, "..", "..", "package.json"))("yaml");
const [configFile, out, action, name] = process.argv.slice(2);
const doc = YAML.parseDocument(fs.readFileSync(configFile, "utf8"));
const users = doc.getIn(["config", "vpn-gateway:users"]);
const i = users ? users.items.findIndex((u) => u.get("name") === name) : -1;
if (action === "add-devices" || action === "add-solo") {
    if (!users) throw new Error(`${configFile}: no vpn-gateway:users list`);
    if (i >= 0) throw new Error(`${configFile}: a user ${name} exists; the test bed's own user needs a free name`);
    users.add(doc.createNode(action === "add-devices" ? { name, methods: ["ikev2"], devices: ["laptop", "phone"] } : { name, methods: ["ikev2"] }));
} else if (action === "revoke") {
    if (i < 0) throw new Error(`${configFile}: no user ${name}`);
    doc.setIn(["config", "vpn-gateway:users", i, "revoked"], true);
} else {
    throw new Error(`usage: node bed-config.js CONFIG OUT add-devices|add-solo|revoke NAME`);
}
fs.writeFileSync(out, String(doc));
