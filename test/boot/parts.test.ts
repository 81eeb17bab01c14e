// Each first-boot part as a component resource (Pulumi's mock runtime): its Args give the part its
// pure renderer gives for the same values, and a part that carries a secret is a secret output.
import { expect } from "chai";
import * as pulumi from "@pulumi/pulumi";
import { BootComponent } from "../../components/boot/bootFile";
import { firewall } from "../../components/boot/firewall";
import { ipsec } from "../../components/boot/ipsec";
import { kernel } from "../../components/boot/kernel";
import { l2tp } from "../../components/boot/l2tp";
import { ppp } from "../../components/boot/ppp";
import { sysctl } from "../../components/boot/sysctl";
import { updates } from "../../components/boot/updates";
import { PSK, settings } from "../helpers";

import { created } from "../mocks";

// Imported after the mocks are set, as the runtime requires.
// eslint-disable-next-line @typescript-eslint/no-var-requires
const parts = require("../../components/boot/parts") as typeof import("../../components/boot/parts");

function value<T>(output: pulumi.Output<T>): Promise<T> {
    return new Promise((resolve) => output.apply((v) => resolve(v)));
}

async function partOf(resource: { part: pulumi.Output<BootComponent> }): Promise<{ part: BootComponent; secret: boolean }> {
    return { part: await value(resource.part), secret: await pulumi.isSecret(resource.part) };
}

const content = (part: BootComponent, path: string) => part.files.find((f) => f.path === path)?.content;

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
        const args = { clientPool: s.clientPool, adminCidr: s.adminCidr, allowClientToClient: s.allowClientToClient };
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

    it("ipsec: a configured PSK and an Elastic IP that is an output; the part and the PSK secret", async () => {
        const publicIp = pulumi.output("203.0.113.10");
        const resource = new parts.Ipsec("i", { clientPool: s.clientPool, os: s.os, psk: PSK, publicIp });
        const { part, secret } = await partOf(resource);
        expect(part).to.deep.equal(ipsec({ clientPool: s.clientPool, os: s.os, psk: PSK, publicIp: "203.0.113.10" }));
        expect(content(part, "/etc/ipsec.secrets")).to.contain(`PSK "${PSK}"`);
        expect(content(part, "/etc/ipsec.conf")).to.contain("keyexchange=ikev1");
        expect(secret).to.equal(true);
        expect(await value(resource.psk)).to.equal(PSK);
        expect(await pulumi.isSecret(resource.psk)).to.equal(true);
        expect(created.map((c) => c.type)).not.to.include("random:index/randomPassword:RandomPassword");
    });

    it("ipsec: without a PSK, generates one as its child (no alias without a parent to come from)", async () => {
        const resource = new parts.Ipsec("gw", { clientPool: s.clientPool, os: s.os });
        const { part, secret } = await partOf(resource);
        expect(await value(resource.psk)).to.equal("GeneratedPsk0123456789abcdefGHIJ");
        expect(part).to.deep.equal(ipsec({ clientPool: s.clientPool, os: s.os, psk: "GeneratedPsk0123456789abcdefGHIJ" }));
        expect(secret).to.equal(true);
        await value(resource.urn);
        const generated = created.find((c) => c.type === "random:index/randomPassword:RandomPassword")!;
        expect(generated).to.include({ name: "gw-psk" });
        expect(generated.inputs).to.include({ length: 32, special: false });
        expect(generated.parent).to.equal(created.find((c) => c.type === "vpn-gateway:boot:Ipsec")!.urn);
        expect(generated.aliases).to.deep.equal([]);
    });

    it("ppp: users and DNS from its Args; secret, even with passwords given in plain", async () => {
        const { part, secret } = await partOf(new parts.Ppp("p", { users: s.users, dnsServers: ["1.1.1.1"] }));
        expect(part).to.deep.equal(ppp({ users: s.users, dnsServers: ["1.1.1.1"] }));
        expect(content(part, "/etc/ppp/chap-secrets")).to.contain('"alice-Passw0rd!"');
        expect(secret).to.equal(true);
    });

    it("ppp: a password that is a secret output lands in chap-secrets", async () => {
        const resource = new parts.Ppp("p", { users: [{ name: "carol", password: pulumi.secret("carol-pass-123") }], dnsServers: s.dnsServers });
        const { part, secret } = await partOf(resource);
        expect(content(part, "/etc/ppp/chap-secrets")).to.contain('"carol"\tl2tpd\t"carol-pass-123"\t*');
        expect(secret).to.equal(true);
        expect(resource.userNames).to.deep.equal(["carol"]);
    });
});
