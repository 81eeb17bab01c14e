// Each first-boot part as a component resource (Pulumi's mock runtime): its Args give the part its
// pure renderer gives for the same values, never a secret; the parts that own SSM parameters create
// exactly the layout's, the secrets among them marked secret.
import { expect } from "chai";
import * as pulumi from "@pulumi/pulumi";
import { BootComponent } from "../../components/boot/bootFile";
import { firewall } from "../../components/boot/firewall";
import { ipsec } from "../../components/boot/ipsec";
import { kernel } from "../../components/boot/kernel";
import { l2tp } from "../../components/boot/l2tp";
import { usersParameters } from "../../components/boot/parameters";
import { ppp } from "../../components/boot/ppp";
import { programParameters, sync } from "../../components/boot/sync";
import { sysctl } from "../../components/boot/sysctl";
import { updates } from "../../components/boot/updates";
import { PARAMETER_PATH, PSK, REGION, settings } from "../helpers";

import { created } from "../mocks";

// Imported after the mocks are set, as the runtime requires.
// eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded once ../mocks has set the Pulumi mocks, as Pulumi's unit-testing guide asks: a require keeps that order explicit
const parts = require("../../components/boot/parts") as typeof import("../../components/boot/parts");

function value<T>(output: pulumi.Output<T>): Promise<T> {
    return new Promise((resolve) => output.apply((v) => resolve(v)));
}

async function partOf(resource: { part: pulumi.Output<BootComponent> }): Promise<{ part: BootComponent; secret: boolean }> {
    return { part: await value(resource.part), secret: await pulumi.isSecret(resource.part) };
}

const content = (part: BootComponent, path: string) => part.files.find((f) => f.path === path)?.content;

/** Pulumi's marker on a secret value as the mock monitor receives it. */
const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";

describe("first-boot parts as component resources (mock runtime)", () => {
    const s = settings({ adminCidr: "198.51.100.7/32", sshKeyName: "ops", allowClientToClient: "true", os: "debian-13" });

    beforeEach(() => {
        created.length = 0;
    });

    it("kernel, sysctl and updates: the renderers' parts, in plain", async () => {
        const cases: Array<[string, InstanceType<typeof parts.BootPart>, BootComponent]> = [
            ["vpn-gateway:boot:Kernel", new parts.Kernel("k"), kernel()],
            ["vpn-gateway:boot:Sysctl", new parts.Sysctl("s"), sysctl()],
            ["vpn-gateway:boot:Updates", new parts.Updates("u"), updates()],
        ];
        for (const [type, resource, expected] of cases) {
            expect(await partOf(resource), type).to.deep.equal({ part: expected, secret: false });
            // registered under its type token (the URN resolves once the monitor has it)
            expect(await value(resource.urn), type).to.match(new RegExp(`::${type}::`));
        }
        expect(created.map((c) => c.type)).to.have.members(cases.map((c) => c[0]));
    });

    it("firewall: pool, admin CIDR and client-to-client from its Args, in plain", async () => {
        const args = { clientPool: s.clientPool, ikev2: s.ikev2, adminCidr: s.adminCidr, allowClientToClient: s.allowClientToClient };
        const { part, secret } = await partOf(new parts.Firewall("f", args));
        expect(part).to.deep.equal(firewall(args));
        expect(secret).to.equal(false);
        const script = content(part, "/usr/local/sbin/vpn-gateway-firewall")!;
        expect(script).to.contain("-A INPUT -p tcp --dport 22 -s 198.51.100.7/32 -j ACCEPT");
        expect(script).to.contain("-o ppp+ -d 192.168.42.0/24 -j ACCEPT");
    });

    it("l2tp: the pool from its Args, in plain", async () => {
        const pool = settings({ clientPool: "10.99.0.0/28", users: [{ name: "a", password: "p" }] }).clientPool;
        const { part, secret } = await partOf(new parts.L2tp("l", { clientPool: pool }));
        expect(part).to.deep.equal(l2tp({ clientPool: pool }));
        expect(content(part, "/etc/xl2tpd/xl2tpd.conf")).to.contain("ip range = 10.99.0.8-10.99.0.14");
        expect(secret).to.equal(false);
    });

    /** The SSM parameters created as children of the part, by name: their inputs, the value unwrapped. */
    async function parametersOf(
        resource: pulumi.Resource,
    ): Promise<Record<string, { type: string; tier: string; value: string; secret: boolean; parent: string }>> {
        const urn = await value(resource.urn);
        // let the children's registrations reach the mock monitor
        await new Promise((r) => setTimeout(r, 50));
        const out: Record<string, any> = {};
        for (const c of created.filter((c) => c.type === "aws:ssm/parameter:Parameter" && c.parent === urn)) {
            const v = c.inputs.value;
            const secret = typeof v === "object" && v["4dabf18193072939515e22adb298388d"] === SECRET_SIG;
            out[c.inputs.name] = { type: c.inputs.type, tier: c.inputs.tier, value: secret ? v.value : v, secret, parent: c.parent };
        }
        return out;
    }

    it("ipsec: the Elastic IP an output, in plain; owns the PSK's parameter, a secret", async () => {
        const publicIp = pulumi.output("203.0.113.10");
        const resource = new parts.Ipsec("i", {
            clientPool: s.clientPool,
            ikev2: s.ikev2,
            dnsServers: s.dnsServers,
            os: s.os,
            psk: PSK,
            publicIp,
            parameterPath: PARAMETER_PATH,
        });
        const { part, secret } = await partOf(resource);
        expect(part).to.deep.equal(ipsec({ clientPool: s.clientPool, ikev2: s.ikev2, dnsServers: s.dnsServers, os: s.os, publicIp: "203.0.113.10" }));
        expect(part.files.map((f) => f.path)).not.to.include("/etc/ipsec.secrets");
        expect(JSON.stringify(part)).not.to.contain(PSK);
        expect(content(part, "/etc/ipsec.conf")).to.contain("keyexchange=ikev1");
        expect(secret).to.equal(false);
        expect(await value(resource.psk)).to.equal(PSK);
        expect(await pulumi.isSecret(resource.psk)).to.equal(true);
        expect(created.map((c) => c.type)).not.to.include("random:index/randomPassword:RandomPassword");
        expect(await parametersOf(resource)).to.deep.equal({
            [`${PARAMETER_PATH}/psk`]: { type: "SecureString", tier: "Standard", value: PSK, secret: true, parent: await value(resource.urn) },
        });
    });

    it("ipsec: without a PSK, generates one as its child (no alias without a parent to come from), and its parameter holds it", async () => {
        const resource = new parts.Ipsec("gw", { clientPool: s.clientPool, ikev2: s.ikev2, dnsServers: s.dnsServers, os: s.os, parameterPath: PARAMETER_PATH });
        const { part, secret } = await partOf(resource);
        expect(await value(resource.psk)).to.equal("GeneratedPsk0123456789abcdefGHIJ");
        expect(part).to.deep.equal(ipsec({ clientPool: s.clientPool, ikev2: s.ikev2, dnsServers: s.dnsServers, os: s.os }));
        expect(secret).to.equal(false);
        await value(resource.urn);
        const generated = created.find((c) => c.type === "random:index/randomPassword:RandomPassword")!;
        expect(generated).to.include({ name: "gw-psk" });
        expect(generated.inputs).to.include({ length: 32, special: false });
        expect(generated.parent).to.equal(created.find((c) => c.type === "vpn-gateway:boot:Ipsec")!.urn);
        expect(generated.aliases).to.deep.equal([]);
        const psk = (await parametersOf(resource))[`${PARAMETER_PATH}/psk`];
        expect(psk).to.include({ value: "GeneratedPsk0123456789abcdefGHIJ", secret: true });
    });

    it("ppp: DNS from its Args, in plain; owns the users' parameters, each a secret, exactly the layout's", async () => {
        const resource = new parts.Ppp("p", { users: s.users, dnsServers: ["1.1.1.1"], parameterPath: PARAMETER_PATH });
        const { part, secret } = await partOf(resource);
        expect(part).to.deep.equal(ppp({ dnsServers: ["1.1.1.1"] }));
        expect(part.files.map((f) => f.path)).not.to.include("/etc/ppp/chap-secrets");
        expect(secret).to.equal(false);
        expect(resource.userNames).to.deep.equal(["alice", "bob"]);
        const made = await parametersOf(resource);
        const layout = usersParameters(PARAMETER_PATH, s.users);
        expect(Object.keys(made).sort()).to.deep.equal(layout.map((p) => p.name));
        for (const p of layout) expect(made[p.name], p.name).to.include({ type: "SecureString", tier: "Standard", value: p.value, secret: true });
        // named after their parameters
        expect(
            created
                .filter((c) => c.type === "aws:ssm/parameter:Parameter")
                .map((c) => c.name)
                .sort(),
        ).to.deep.equal(layout.map((p) => `p-users-${p.name.split("/").pop()}`).sort());
    });

    it("sync: sync.json, the installer and the units from its Args, in plain; owns the program's parameters", async () => {
        const resource = new parts.Sync("y", { region: REGION, parameterPath: PARAMETER_PATH, clientPool: s.clientPool });
        const { part, secret } = await partOf(resource);
        expect(part).to.deep.equal(sync({ region: REGION, parameterPath: PARAMETER_PATH, clientPool: s.clientPool }));
        expect(secret).to.equal(false);
        const made = await parametersOf(resource);
        const program = programParameters(PARAMETER_PATH);
        expect(Object.keys(made).sort()).to.deep.equal(program.map((p) => p.name).sort());
        // nothing secret in them, but the provider marks every parameter's value secret
        for (const p of program) expect(made[p.name], p.name).to.include({ type: "SecureString", tier: "Standard", value: p.value, secret: true });
    });
});
