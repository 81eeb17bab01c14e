// Node 22.18 and later load .ts files themselves (type stripping): mocha would import each test
// file that way first, fail on its extensionless relative imports, warn, and only then load it
// through ts-node. Where Node would do that, it is switched off: every file loads through ts-node.
module.exports = {
    require: ["ts-node/register/transpile-only"],
    extension: ["ts"],
    spec: ["test/**/*.test.ts"],
    timeout: 20000,
    ...(process.features.typescript ? { "node-option": ["no-experimental-strip-types"] } : {}),
};
