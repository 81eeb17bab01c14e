// The stack's CA as a dynamic resource: its provider as `pulumi up` ships it (serialized by Pulumi's
// closure serializer, run by a host without ts-node), and its diff.
import { expect } from "chai";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { StackPkiOutputs, stackPkiProvider } from "../../components/aws/pki";
import { PkiState } from "../../components/pki/ledger";

const ROOT = path.join(__dirname, "..", "..");

describe("StackPki's dynamic provider", function () {
    this.timeout(120000);

    it("serializes as pulumi up does and runs create then update in a plain node process (no ts-node)", async () => {
        // What @pulumi/pulumi/dynamic does with a provider (serializeFunctionMaybeSecret), and what
        // its host does with the text (require-from-string, then .handler()).
        const serialized = await pulumi.runtime.serializeFunction(() => stackPkiProvider, { allowSecrets: true });
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pki-provider-"));
        const file = path.join(dir, "provider.js");
        fs.writeFileSync(file, serialized.text);
        const script = [
            `const provider = require("require-from-string")(require("fs").readFileSync(${JSON.stringify(file)}, "utf8")).handler();`,
            `(async () => {`,
            `  const inputs = { caName: "vpn-gateway serialized CA", address: "203.0.113.10", users: [{ name: "alice", reissue: 0, revoked: false }] };`,
            `  const created = await provider.create(inputs);`,
            `  const same = await provider.diff(created.id, created.outs, inputs);`,
            `  const news = { ...inputs, users: [] };`,
            `  const changed = await provider.diff(created.id, created.outs, news);`,
            `  const updated = await provider.update(created.id, created.outs, news);`,
            `  console.log(JSON.stringify({ id: created.id, created: created.outs, same, changed, updated: updated.outs }));`,
            `})().catch((e) => { console.error(e && e.stack || e); process.exit(1); });`,
        ].join("\n");
        // A plain node: no -r ts-node, the modules from this checkout's node_modules, run elsewhere.
        const result = spawnSync(process.execPath, ["-e", script], {
            cwd: dir,
            encoding: "utf8",
            env: { PATH: process.env.PATH, NODE_PATH: path.join(ROOT, "node_modules") },
        });
        expect(result.status, result.stderr).to.equal(0);
        expect(serialized.text).not.to.contain("ts-node");
        const out = JSON.parse(result.stdout);
        const before = JSON.parse(out.created.state) as PkiState;
        const after = JSON.parse(out.updated.state) as PkiState;
        expect(out.id).to.match(/^ca-[0-9a-f]{16}$/);
        expect(Object.keys(before.users)).to.deep.equal(["alice"]);
        expect(out.same).to.deep.include({ changes: false, replaces: [] });
        expect(out.changed).to.deep.include({ changes: true, replaces: [] });
        // the CA kept, alice revoked
        expect(after.ca).to.deep.equal(before.ca);
        expect(after.users).to.deep.equal({});
        expect(after.revoked.map((r) => [r.name, r.serial, r.reason])).to.deep.equal([["alice", before.users.alice.serial, "cessationOfOperation"]]);
        expect(out.updated).to.include({ caName: "vpn-gateway serialized CA", address: "203.0.113.10" });
    });

    it("changes only when the address or the users change, and never replaces", async () => {
        const olds = { caName: "c", address: "203.0.113.10", users: [{ name: "a", reissue: 0, revoked: false }], state: "{}" } as StackPkiOutputs;
        const diff = (news: object) => stackPkiProvider.diff!("id", olds, { ...olds, state: undefined, ...news });
        expect(await diff({})).to.deep.include({ changes: false });
        for (const news of [
            { address: "203.0.113.11" },
            { users: [] },
            { users: [{ name: "a", reissue: 1, revoked: false }] },
            { users: [{ name: "a", reissue: 0, revoked: true }] },
        ]) {
            const result = await diff(news);
            expect(result, JSON.stringify(news)).to.deep.include({ changes: true, replaces: [], deleteBeforeReplace: false });
        }
    });

    it("refuses a change of the CA's name (reconcilePki keeps a CA for the stack's life)", async () => {
        const inputs = { caName: "vpn-gateway a CA", address: "203.0.113.10", users: [{ name: "alice", reissue: 0, revoked: false }] };
        const created = await stackPkiProvider.create(inputs);
        let error: Error | undefined;
        await stackPkiProvider.update!(created.id, created.outs, { ...inputs, caName: "vpn-gateway b CA" }).catch((e) => (error = e));
        expect(error?.message).to.contain("its name cannot change");
    });
});
