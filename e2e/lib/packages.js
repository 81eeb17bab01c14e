// Prints the package names a #cloud-config (possibly gzip-compressed) asks cloud-init to install,
// so the local apt repository can hold them. Usage: node packages.js USER_DATA
"use strict";
const fs = require("fs");
const path = require("path");
const zlib = require("zlib");
const { createRequire } = require("module");
const YAML = createRequire(path.join(__dirname, "..", "..", "package.json"))("yaml");
let buf = fs.readFileSync(process.argv[2]);
if (buf[0] === 0x1f && buf[1] === 0x8b) buf = zlib.gunzipSync(buf);
const text = buf.toString("utf8");
if (!text.startsWith("#cloud-config")) process.exit(0); // multipart etc.: nothing to add
const doc = YAML.parse(text) || {};
const names = (doc.packages || []).map((p) => (Array.isArray(p) ? p[0] : String(p).split("=")[0]));
process.stdout.write(names.join(" "));
