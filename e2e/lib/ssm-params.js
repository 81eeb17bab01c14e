// The SSM parameters file `npm run render -- --out-dir` writes (ssm-parameters.json: a JSON array
// of {"name", "type", "value"}), as run.sh hands it to the test bed's SSM stand-in.
//   node ssm-params.js check FILE       exits 1 unless FILE is such an array; prints its length
//   node ssm-params.js path FILE        the stack's parameter path: the PSK parameter's name
//                                       without its last part (/vpn-gateway/<stack>)
//   node ssm-params.js users FILE OUT   writes FILE's users parameters (PATH/users/*) to OUT;
//                                       prints how many and how many users they hold
"use strict";
const fs = require("fs");

function load(file) {
    const a = JSON.parse(fs.readFileSync(file, "utf8"));
    if (!Array.isArray(a) || !a.every((p) => p && ["name", "type", "value"].every((k) => typeof p[k] === "string"))) {
        throw new Error(`${file}: a JSON array of {name, type, value} strings expected`);
    }
    return a;
}

function stackPath(params, file) {
    const psk = params.filter((p) => /^(\/[A-Za-z0-9_.-]+)+\/psk$/.test(p.name));
    if (psk.length !== 1) throw new Error(`${file}: expected one PATH/psk parameter, found ${psk.length}`);
    return psk[0].name.slice(0, -"/psk".length);
}

const [cmd, file, out] = process.argv.slice(2);
const params = load(file);
if (cmd === "check") {
    console.log(params.length);
} else if (cmd === "path") {
    console.log(stackPath(params, file));
} else if (cmd === "users") {
    const prefix = `${stackPath(params, file)}/users/`;
    const users = params.filter((p) => p.name.startsWith(prefix));
    fs.writeFileSync(out, `${JSON.stringify(users, null, 1)}\n`, { mode: 0o600 });
    const count = users.reduce((n, p) => n + JSON.parse(p.value).users.length, 0);
    console.log(`${users.length} ${count}`);
} else {
    console.error("usage: node ssm-params.js check|path FILE | users FILE OUT");
    process.exit(2);
}
