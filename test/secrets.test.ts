// Every place a secret (the PSK, the users' passwords) flows through, each asserted secret or absent.
import { expect } from "chai";
import * as pulumi from "@pulumi/pulumi";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as zlib from "zlib";
import { PSK, USERS, commandLine, rawConfig } from "./helpers";

import { created } from "./mocks";

// eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded once ../mocks has set the Pulumi mocks, as Pulumi's unit-testing guide asks: a require keeps that order explicit
const { deploy, rawConfigFromPulumi, secretsStoredInPlain } = require("../components/aws/deploy") as typeof import("../components/aws/deploy");

const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";
const SECRETS = [PSK, ...USERS.map((u) => u.password)];

/** Every plain (non-secret) string reachable in a value, secret-marked subtrees left out. */
function plainStrings(value: unknown, out: string[] = []): string[] {
    if (typeof value === "string") out.push(value);
    else if (Array.isArray(value)) value.forEach((v) => plainStrings(v, out));
    else if (value && typeof value === "object") {
        if ((value as any)["4dabf18193072939515e22adb298388d"] === SECRET_SIG) return out;
        Object.values(value).forEach((v) => plainStrings(v, out));
    }
    return out;
}

function resolved<T>(o: pulumi.Output<T> | T): Promise<T> {
    return new Promise((r) => pulumi.output(o).apply((v) => r(v as T)));
}

describe("where secrets flow", () => {
    it("stack config: refuses a PSK or passwords stored without --secret", async () => {
        const raw = rawConfig();
        const config = Object.fromEntries(Object.entries(raw).map(([k, v]) => [`vpn-gateway:${k}`, v as string]));
        pulumi.runtime.setAllConfig(config, []);
        expect(secretsStoredInPlain(rawConfigFromPulumi())).to.deep.equal(["psk", "users"]);
        pulumi.runtime.setAllConfig(config, ["vpn-gateway:psk", "vpn-gateway:users"]);
        expect(secretsStoredInPlain(rawConfigFromPulumi())).to.deep.equal([]);
        let error: Error | undefined;
        await deploy(raw, "test", ["psk"]).catch((e) => (error = e));
        expect(error?.message).to.match(/vpn-gateway:psk: is stored in plain text in the stack's config; set it again with --secret/);
    });

    it("resource inputs and component outputs (state, preview diffs): every one holding a secret is marked secret", async () => {
        created.length = 0;
        const outputs: any = await deploy(rawConfig(), "test");
        await resolved(outputs.health);
        expect(created.length).to.be.at.least(5);
        for (const resource of created) {
            const plain = plainStrings(resource.inputs).join("\n");
            for (const secret of SECRETS) expect(plain, `${resource.type} carries a secret in plain`).not.to.contain(secret);
        }
        // The components' registered outputs (the first-boot parts' files among them) go to the
        // state as well.
        const withOutputs = created.filter((c) => c.outputs !== undefined);
        expect(withOutputs.map((c) => c.type)).to.include.members(["vpn-gateway:boot:Ipsec", "vpn-gateway:boot:Ppp"]);
        for (const resource of withOutputs) {
            const plain = plainStrings(resource.outputs).join("\n");
            for (const secret of SECRETS) expect(plain, `${resource.type}'s outputs carry a secret in plain`).not.to.contain(secret);
        }
        // ...and the user-data holds none: the SSM parameters do, each value marked secret.
        const instance = created.find((c) => c.type === "aws:ec2/instance:Instance")!;
        const userData = Buffer.from(instance.inputs.userDataBase64, "base64");
        const document = (userData[0] === 0x1f ? zlib.gunzipSync(userData) : userData).toString("utf8");
        expect(document.startsWith("#cloud-config\n")).to.equal(true);
        for (const secret of SECRETS) expect(document, "the user-data").not.to.contain(secret);
        const parameters = created.filter((c) => c.type === "aws:ssm/parameter:Parameter");
        expect(parameters.length).to.be.at.least(2);
        for (const p of parameters) expect(p.inputs.value["4dabf18193072939515e22adb298388d"], p.inputs.name).to.equal(SECRET_SIG);
    });

    it("stack outputs: the PSK only as a secret, passwords never", async () => {
        const outputs: any = await deploy(rawConfig(), "test");
        for (const [name, output] of Object.entries(outputs)) {
            const isSecret = pulumi.Output.isInstance(output) ? await pulumi.isSecret(output as pulumi.Output<unknown>) : false;
            const text = JSON.stringify(await resolved(output as any));
            if (name === "psk") {
                expect(isSecret, "psk output").to.equal(true);
                continue;
            }
            for (const secret of SECRETS) expect(text, `output ${name}`).not.to.contain(secret);
        }
    });

    it("the render command's logs: secrets only in ssm-parameters.json, never on stdout or stderr", () => {
        const root = path.join(__dirname, "..");
        const result = spawnSync(process.execPath, [...commandLine("render").slice(1), "--config", "Pulumi.example.yaml", "--out", "/dev/null"], {
            cwd: root,
            encoding: "utf8",
        });
        expect(result.status).to.equal(0);
        expect(result.stdout).to.equal("");
        expect(result.stderr).to.match(/^wrote \d+ bytes of user-data to \/dev\/null\n$/);
        const dir = path.join(os.tmpdir(), `render-secrets-${process.pid}`);
        const withParameters = spawnSync(process.execPath, [...commandLine("render").slice(1), "--config", "Pulumi.example.yaml", "--out-dir", dir], {
            cwd: root,
            encoding: "utf8",
        });
        expect(withParameters.status, withParameters.stderr).to.equal(0);
        expect(withParameters.stdout).to.equal("");
        expect(withParameters.stderr).to.match(
            /^render: IKEv2 server certificate for 203\.0\.113\.10 [^\n]*\nwrote \d+ bytes of user-data and \d+ SSM parameters under \/vpn-gateway\/example to \S+, IKEv2 profiles for \d+ certificates to \S+ \(0 certificates revoked\)\n$/,
        );
        fs.rmSync(dir, { recursive: true, force: true });
    });
});
