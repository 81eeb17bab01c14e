// The AWS side under Pulumi's mock runtime: no cloud, no CLI, the program's real resource graph.
import { expect } from "chai";
import * as pulumi from "@pulumi/pulumi";
import * as fs from "fs";
import * as path from "path";
import * as zlib from "zlib";
import { parse } from "yaml";
import { cloudConfig, gatewayParameters, userDataBytes } from "../../components/boot/cloudConfig";
import { PARAMETER_VALUE_LIMIT, SsmParameter } from "../../components/boot/parameters";
import { SYNC_LIMITS } from "../../components/boot/sync";
import { parseSettings } from "../../components/config/settings";
import { PkiState } from "../../components/pki/ledger";
import { gatewayPki, ikev2Parameters, ikev2PieceCount } from "../../components/pki/parameters";
import { PARAMETER_PATH, REGION, rawConfig, USERS, PSK } from "../helpers";

import { calls, created, Created, knobs, pkiStates } from "../mocks";

// Imported after the mocks are set, as the runtime requires.
// eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded once ../mocks has set the Pulumi mocks, as Pulumi's unit-testing guide asks: a require keeps that order explicit
const { deploy } = require("../../components/aws/deploy") as typeof import("../../components/aws/deploy");

function value<T>(output: pulumi.Output<T> | T): Promise<T> {
    return new Promise((resolve) => pulumi.output(output).apply((v) => resolve(v as T)));
}

/** keepPki: the stack's CA as the previous run left it (an update), else a new one. */
async function run(overrides: Record<string, unknown> = {}, stack = "test", { keepPki = false } = {}) {
    created.length = 0;
    calls.length = 0;
    if (!keepPki) pkiStates.clear();
    const outputs = await deploy(rawConfig(overrides), stack);
    // Let every registration reach the mock monitor.
    await value(outputs.connectionInstructions);
    await value(outputs.instanceId);
    if ("health" in outputs) await value((outputs as any).health);
    return outputs;
}

const of = (type: string) => created.filter((c) => c.type === type);

/** The first-boot parts' type tokens, one component resource each. */
const PART_TYPES = ["Kernel", "Sysctl", "Firewall", "Ipsec", "L2tp", "Ppp", "Sync", "Updates"].map((p) => `vpn-gateway:boot:${p}`);
/** The AWS resources of one gateway, one each (the parameters are many). */
const AWS_TYPES = [
    "aws:ec2/securityGroup:SecurityGroup",
    "aws:ec2/eip:Eip",
    "aws:iam/role:Role",
    "aws:iam/rolePolicy:RolePolicy",
    "aws:iam/instanceProfile:InstanceProfile",
    "aws:ec2/instance:Instance",
    "aws:ec2/eipAssociation:EipAssociation",
];
const PARAMETER = "aws:ssm/parameter:Parameter";
/** The stack's CA: a dynamic resource (aws/pki.ts StackPki) under the Ikev2 component. */
const DYNAMIC = "pulumi-nodejs:dynamic:Resource";
const IKEV2 = "vpn-gateway:index:Ikev2";

/** The CA state the last run's StackPki holds (the mock runs the real reconcilePki). */
function pkiState(stack = "test"): PkiState {
    const state = pkiStates.get(`vpn-gateway-${stack}-pki`);
    expect(state, "the stack's CA state").not.to.equal(undefined);
    return state!;
}

/** PATH/ikev2/1..N as they follow from that state. */
async function ikev2Expected(stack = "test", path = PARAMETER_PATH, overrides: Record<string, unknown> = {}): Promise<SsmParameter[]> {
    return ikev2Parameters(path, await gatewayPki(pkiState(stack)), ikev2PieceCount(parseSettings(rawConfig(overrides)).ikev2.users));
}
const one = (type: string) => {
    const found = of(type);
    expect(found, type).to.have.length(1);
    return found[0];
};

/** Pulumi's marker on a secret value as the mock monitor receives it. */
const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";

/** The instance's user-data as EC2 gets it: plain, never marked secret (it holds none). */
function userDataBytesOf(instance: Created): Buffer {
    const input = instance.inputs.userDataBase64;
    expect(input, "the user-data is no secret").to.be.a("string");
    return Buffer.from(input, "base64");
}

function userDataDocument(instance: Created): string {
    const bytes = userDataBytesOf(instance);
    return (bytes[0] === 0x1f && bytes[1] === 0x8b ? zlib.gunzipSync(bytes) : bytes).toString("utf8");
}

/** The SSM parameters the program created, by name: type, tier, and the value (unwrapped from its secret marker). */
function parametersCreated(): Record<string, { type: string; tier: string; value: string; secret: boolean }> {
    const out: Record<string, { type: string; tier: string; value: string; secret: boolean }> = {};
    for (const c of of(PARAMETER)) {
        const v = c.inputs.value;
        const secret = typeof v === "object" && v["4dabf18193072939515e22adb298388d"] === SECRET_SIG;
        out[c.inputs.name] = { type: c.inputs.type, tier: c.inputs.tier, value: secret ? v.value : v, secret };
    }
    return out;
}

describe("AWS resources (mock runtime)", () => {
    beforeEach(() => {
        knobs.vpcCidr = "172.31.0.0/16";
        knobs.defaultVpcExists = true;
        knobs.amiId = "ami-0123456789abcdef0";
    });

    it("opens UDP 500, 4500 and 1701 from the allowed CIDRs and nothing else", async () => {
        await run({ allowedCidrs: ["198.51.100.0/24", "203.0.113.0/24"] });
        const sg = one("aws:ec2/securityGroup:SecurityGroup");
        const rules = sg.inputs.ingress.map((r: any) => `${r.protocol}/${r.fromPort}-${r.toPort} ${r.cidrBlocks.join(",")}`);
        expect(rules).to.have.members([
            "udp/500-500 198.51.100.0/24,203.0.113.0/24",
            "udp/4500-4500 198.51.100.0/24,203.0.113.0/24",
            "udp/1701-1701 198.51.100.0/24,203.0.113.0/24",
        ]);
        expect(sg.inputs.vpcId).to.equal("vpc-0default");
    });

    it("defaults the VPN ports to anywhere and keeps SSH closed", async () => {
        await run();
        const sg = one("aws:ec2/securityGroup:SecurityGroup");
        expect(sg.inputs.ingress.every((r: any) => r.cidrBlocks.join() === "0.0.0.0/0")).to.equal(true);
        expect(sg.inputs.ingress.some((r: any) => r.fromPort === 22)).to.equal(false);
        expect(one("aws:ec2/instance:Instance").inputs.keyName).to.equal(undefined);
    });

    it("opens SSH from the admin CIDR only when asked, with the key", async () => {
        await run({ adminCidr: "198.51.100.7/32", sshKeyName: "ops" });
        const ssh = one("aws:ec2/securityGroup:SecurityGroup").inputs.ingress.filter((r: any) => r.fromPort === 22);
        expect(ssh).to.have.length(1);
        expect(ssh[0]).to.include({ protocol: "tcp", toPort: 22 });
        expect(ssh[0].cidrBlocks).to.deep.equal(["198.51.100.7/32"]);
        expect(one("aws:ec2/instance:Instance").inputs.keyName).to.equal("ops");
    });

    it("requires IMDSv2 with a hop limit of 1 and encrypts the root volume", async () => {
        await run();
        const instance = one("aws:ec2/instance:Instance").inputs;
        expect(instance.metadataOptions).to.include({ httpTokens: "required", httpEndpoint: "enabled", httpPutResponseHopLimit: 1 });
        expect(instance.rootBlockDevice).to.include({ encrypted: true, deleteOnTermination: true });
        expect(instance.instanceType).to.equal("t3.micro");
        expect(instance.ami).to.equal("ami-0123456789abcdef0");
        expect(instance.subnetId).to.equal("subnet-0aaa");
    });

    it("replaces the instance when its user-data changes", async () => {
        await run();
        expect(one("aws:ec2/instance:Instance").inputs.userDataReplaceOnChange).to.equal(true);
    });

    it("associates an Elastic IP with the instance and hands its address to the user-data", async () => {
        const outputs = await run();
        const eip = one("aws:ec2/eip:Eip");
        expect(eip.inputs.domain).to.equal("vpc");
        const association = one("aws:ec2/eipAssociation:EipAssociation");
        expect(association.inputs).to.include({ allocationId: "eipalloc-123", instanceId: `vpn-gateway-test-id` });
        expect(await value(outputs.publicIp)).to.equal("203.0.113.10");
        const files = (parse(userDataDocument(one("aws:ec2/instance:Instance"))) as any).write_files;
        expect(files.find((f: any) => f.path === "/etc/vpn-gateway/public-ip").content).to.equal("203.0.113.10\n");
    });

    it("keeps the Elastic IP when the instance is replaced: the address is allocated apart from it", async () => {
        await run();
        const eip = one("aws:ec2/eip:Eip");
        // Tied to the instance only through the association, which is replaced along with the instance.
        expect(eip.inputs).not.to.have.any.keys("instance", "networkInterface", "associateWithPrivateIp");
        expect(one("aws:ec2/eipAssociation:EipAssociation").inputs.instanceId).to.equal("vpn-gateway-test-id");
    });

    it("creates only what pulumi destroy removes: nothing protected or retained, nothing outside the component", async () => {
        await run();
        // The mock monitor sees every registration; none asks to outlive the stack.
        const types = [...new Set(created.map((c) => c.type))].sort();
        expect(types).to.deep.equal([...AWS_TYPES, PARAMETER, DYNAMIC, IKEV2, "command:local:Command", "vpn-gateway:index:VpnGateway", ...PART_TYPES].sort());
        for (const file of [
            ["aws", "gateway.ts"],
            ["aws", "pki.ts"],
            ["boot", "parts.ts"],
        ]) {
            const source = fs.readFileSync(path.join(__dirname, "..", "..", "components", ...file), "utf8");
            expect(source, file.join("/")).not.to.match(/retainOnDelete|protect:\s*true/);
        }
        // Every resource but the gateway descends from it.
        const root = one("vpn-gateway:index:VpnGateway");
        for (const c of created.filter((c) => c !== root)) {
            expect(c.parent, `${c.type} ${c.name}`).to.satisfy((p: string) => p === root.urn || created.some((d) => d.urn === p && d.parent === root.urn));
        }
    });

    it("gives the instance a cloud-config without the PSK or any password: the stack's parameters hold them", async () => {
        const outputs: any = await run();
        const document = userDataDocument(one("aws:ec2/instance:Instance"));
        expect(document.startsWith("#cloud-config\n")).to.equal(true);
        const paths = (parse(document) as any).write_files.map((f: any) => f.path);
        expect(paths).not.to.include.members(["/etc/ipsec.secrets"]);
        expect(paths).not.to.include.members(["/etc/ppp/chap-secrets"]);
        for (const secret of [PSK, ...USERS.map((u) => u.password)]) expect(document).not.to.contain(secret);
        const sync = JSON.parse((parse(document) as any).write_files.find((f: any) => f.path === "/etc/vpn-gateway/sync.json").content);
        expect(sync).to.deep.equal({
            region: REGION,
            path: PARAMETER_PATH,
            serverName: "l2tpd",
            clientPool: "192.168.42.0/24",
            gatewayAddress: "192.168.42.1",
            staticRange: { first: "192.168.42.2", last: "192.168.42.127" },
            // the rules of config/settings.ts the agent checks the parameters against again
            limits: JSON.parse(JSON.stringify(SYNC_LIMITS)),
        });
        expect(outputs.parameterPath).to.equal(PARAMETER_PATH);
    });

    it("creates exactly the stack's parameters: SecureString, standard tier, at most 4096 characters, the PSK and passwords secret", async () => {
        await run();
        const made = parametersCreated();
        const expected = [
            ...gatewayParameters({ parameterPath: PARAMETER_PATH, psk: PSK, users: parseSettings(rawConfig()).users }),
            ...(await ikev2Expected()),
        ];
        expect(Object.keys(made).sort()).to.deep.equal(expected.map((p) => p.name).sort());
        // the CA and server certificates, the server's key and the CRL, in as many pieces as the
        // users bound them to (known before the CA exists, so preview shows them all)
        const pieceCount = ikev2PieceCount(parseSettings(rawConfig()).ikev2.users);
        expect(pieceCount).to.be.within(2, 6);
        expect(expected.filter((p) => p.name.startsWith(`${PARAMETER_PATH}/ikev2/`)).map((p) => p.name)).to.deep.equal(
            Array.from({ length: pieceCount }, (_, i) => `${PARAMETER_PATH}/ikev2/${i + 1}`),
        );
        for (const p of expected) {
            expect(made[p.name], p.name).to.deep.equal({ type: "SecureString", tier: "Standard", value: p.value, secret: true });
            expect(p.value.length, p.name).to.be.at.most(PARAMETER_VALUE_LIMIT);
        }
        expect(made[`${PARAMETER_PATH}/psk`].value).to.equal(PSK);
        const users = Object.entries(made).filter(([n]) => n.startsWith(`${PARAMETER_PATH}/users/`));
        expect(users.flatMap(([, p]) => JSON.parse(p.value).users).sort((a: any, b: any) => a.name.localeCompare(b.name))).to.deep.equal(USERS);
        // each a child of the part that owns it: the PSK the IPsec part's, the users the PPP part's,
        // the program the Sync part's, the IKEv2 material the Ikev2 component's
        const owner = (type: string) => one(`vpn-gateway:boot:${type}`).urn;
        for (const c of of(PARAMETER)) {
            const suffix = c.inputs.name.slice(PARAMETER_PATH.length + 1);
            const expectedOwner =
                suffix === "psk" ? owner("Ipsec") : suffix.startsWith("users/") ? owner("Ppp") : suffix.startsWith("ikev2/") ? one(IKEV2).urn : owner("Sync");
            expect(c.parent, c.inputs.name).to.equal(expectedOwner);
        }
    });

    it("gives the instance a role that may read the stack's parameters and nothing else", async () => {
        await run();
        const role = one("aws:iam/role:Role");
        expect(JSON.parse(role.inputs.assumeRolePolicy)).to.deep.equal({
            Version: "2012-10-17",
            Statement: [{ Effect: "Allow", Principal: { Service: "ec2.amazonaws.com" }, Action: "sts:AssumeRole" }],
        });
        expect(role.inputs).not.to.have.any.keys("managedPolicyArns", "inlinePolicies");
        const policy = one("aws:iam/rolePolicy:RolePolicy");
        expect(policy.inputs.role).to.equal("vpn-gateway-test-id");
        expect(JSON.parse(policy.inputs.policy)).to.deep.equal({
            Version: "2012-10-17",
            Statement: [
                {
                    Sid: "ListTheStacksParameters",
                    Effect: "Allow",
                    Action: "ssm:GetParametersByPath",
                    Resource: [
                        "arn:aws:ssm:eu-west-1:123456789012:parameter/vpn-gateway/test",
                        "arn:aws:ssm:eu-west-1:123456789012:parameter/vpn-gateway/test/*",
                    ],
                },
                {
                    Sid: "ReadTheStacksParameters",
                    Effect: "Allow",
                    Action: "ssm:GetParameters",
                    Resource: "arn:aws:ssm:eu-west-1:123456789012:parameter/vpn-gateway/test/*",
                },
            ],
        });
        expect(of("aws:iam/rolePolicyAttachment:RolePolicyAttachment")).to.deep.equal([]);
        const profile = one("aws:iam/instanceProfile:InstanceProfile");
        expect(profile.inputs.role).to.equal("vpn-gateway-test-1a2b3c4");
        expect(one("aws:ec2/instance:Instance").inputs.iamInstanceProfile).to.equal("vpn-gateway-test-1a2b3c4");
    });

    it("names the stack's own path, region, account and partition in the policy", async () => {
        knobs.region = "cn-north-1";
        knobs.partition = "aws-cn";
        knobs.accountId = "210987654321";
        try {
            await run({}, "prod.eu");
            const statements = JSON.parse(one("aws:iam/rolePolicy:RolePolicy").inputs.policy).Statement;
            expect(statements[1].Resource).to.equal("arn:aws-cn:ssm:cn-north-1:210987654321:parameter/vpn-gateway/prod.eu/*");
            expect(Object.keys(parametersCreated()).every((n) => n.startsWith("/vpn-gateway/prod.eu/"))).to.equal(true);
            expect(
                JSON.parse(
                    (parse(userDataDocument(one("aws:ec2/instance:Instance"))) as any).write_files.find((f: any) => f.path === "/etc/vpn-gateway/sync.json")
                        .content,
                ),
            ).to.include({
                region: "cn-north-1",
                path: "/vpn-gateway/prod.eu",
            });
        } finally {
            knobs.region = "eu-west-1";
            knobs.partition = "aws";
            knobs.accountId = "123456789012";
        }
    });

    it("creates the instance after the role's policy and every parameter, so its first boot finds them", async () => {
        await run();
        const dependencies = one("aws:ec2/instance:Instance").dependencies;
        expect(dependencies).to.include(one("aws:iam/rolePolicy:RolePolicy").urn);
        for (const p of of(PARAMETER)) expect(dependencies, p.inputs.name).to.include(p.urn);
    });

    it("a change of users or PSK changes parameters only: every input of the instance stays the same", async () => {
        await run();
        const before = Object.fromEntries(AWS_TYPES.map((t) => [t, one(t).inputs]));
        const parametersBefore = parametersCreated();
        const changed = {
            psk: "a-different-psk-9876543210",
            users: [
                { name: "alice", password: "alice-NEW-pass" },
                { name: "carol", password: "carol-s3cret-pass", ip: "192.168.42.9" },
                // L2TP only: a certificate each would cost a key each (0.1 s)
                ...Array.from({ length: 300 }, (_, i) => ({ name: `user${i}`, password: `password-${i}-xxxxxxxx`, methods: ["l2tp"] })),
            ],
        };
        await run(changed, "test", { keepPki: true });
        expect(one("aws:ec2/instance:Instance").inputs).to.deep.equal(before["aws:ec2/instance:Instance"]);
        const parametersAfter = parametersCreated();
        expect(parametersAfter).not.to.deep.equal(parametersBefore);
        expect(parametersAfter[`${PARAMETER_PATH}/psk`].value).to.equal("a-different-psk-9876543210");
        // and so do the inputs of the gateway's other AWS resources: the role, its policy, the profile, ...
        for (const type of AWS_TYPES) expect(one(type).inputs, type).to.deep.equal(before[type]);
    });

    it("keeps the stack's CA in a dynamic resource under the Ikev2 component, its state secret, the real generator's", async () => {
        const outputs: any = await run();
        const ikev2 = one(IKEV2);
        expect(ikev2.parent).to.equal(one("vpn-gateway:index:VpnGateway").urn);
        const pki = one(DYNAMIC);
        expect(pki.name).to.equal("vpn-gateway-test-pki");
        expect(pki.parent).to.equal(ikev2.urn);
        expect(pki.inputs).to.include({ caName: "vpn-gateway test CA", address: "203.0.113.10" });
        expect(pki.inputs.users).to.deep.equal(parseSettings(rawConfig()).ikev2.users);
        expect(pki.inputs.__provider, "the serialized provider").to.contain("exports.handler");
        // the engine keeps the state secret, and so does every output that carries it
        expect(pki.additionalSecretOutputs).to.deep.equal(["state"]);
        expect(await pulumi.isSecret(outputs.pki)).to.equal(true);
        const state = JSON.parse(await value(outputs.pki)) as PkiState;
        expect(state).to.deep.equal(pkiState());
        expect(Object.keys(state.users)).to.deep.equal(["alice", "bob"]);
        expect(state.server.address).to.equal("203.0.113.10");
        // the component's registered output too: a secret in the engine's state
        expect(ikev2.outputs.state["4dabf18193072939515e22adb298388d"]).to.equal(SECRET_SIG);
    });

    it("gives the gateway PATH/ikev2/1..N: SecureString, secret, the server's key and no other (never the CA's or a user's)", async () => {
        await run();
        const made = parametersCreated();
        const pieces = Object.keys(made)
            .filter((n) => n.startsWith(`${PARAMETER_PATH}/ikev2/`))
            .sort();
        expect(pieces).to.deep.equal((await ikev2Expected()).map((p) => p.name));
        expect(pieces.length).to.be.at.least(1);
        for (const name of pieces) expect(made[name]).to.include({ type: "SecureString", tier: "Standard", secret: true });
        const material = JSON.parse(zlib.gunzipSync(Buffer.from(pieces.map((n) => made[n].value).join(""), "base64")).toString("utf8"));
        const state = pkiState();
        expect(material).to.deep.equal(await gatewayPki(state));
        // every parameter, unpacked where packed: one private key block, the server's
        const unpacked = Object.entries(made)
            .map(([name, p]) => (name.includes("/ikev2/") ? "" : p.value))
            .concat(JSON.stringify(material))
            .join("\n");
        expect(unpacked.match(/-----BEGIN [A-Z ]*PRIVATE KEY-----/g)).to.have.length(1);
        expect(material.serverKey).to.equal(state.server.keyPem);
        for (const key of [state.ca.keyPem, ...Object.values(state.users).map((u) => u.keyPem)]) {
            const body = key.split("\n")[1];
            expect(unpacked).not.to.contain(body);
        }
        expect(JSON.stringify(made)).not.to.contain(state.ca.keyPem.split("\n")[1]);
    });

    it("an IKEv2 user added or revoked changes the CA's state and PATH/ikev2 only: the user-data and the instance stay the same", async () => {
        await run();
        const before = Object.fromEntries(AWS_TYPES.map((t) => [t, one(t).inputs]));
        const caBefore = pkiState().ca;
        const ikev2Of = () => {
            const made = parametersCreated();
            return Object.keys(made)
                .filter((n) => n.includes("/ikev2/"))
                .sort()
                .map((n) => made[n].value)
                .join("");
        };
        const ikev2Before = ikev2Of();
        const added = [...USERS, { name: "dave", methods: ["ikev2"] }];
        await run({ users: added }, "test", { keepPki: true });
        for (const type of AWS_TYPES) expect(one(type).inputs, type).to.deep.equal(before[type]);
        expect(pkiState().ca).to.deep.equal(caBefore);
        expect(Object.keys(pkiState().users)).to.deep.equal(["alice", "bob", "dave"]);
        // a new certificate changes nothing the gateway holds: the CA, its key and the CRL stay
        expect(ikev2Of()).to.equal(ikev2Before);
        await run({ users: [...USERS, { name: "dave", methods: ["ikev2"], revoked: true }] }, "test", { keepPki: true });
        for (const type of AWS_TYPES) expect(one(type).inputs, type).to.deep.equal(before[type]);
        expect(pkiState().revoked.map((r) => r.name)).to.deep.equal(["dave"]);
        // a revocation is a new CRL: the gateway's parameters change, nothing else
        const after = ikev2Of();
        expect(after).not.to.equal(ikev2Before);
        const material = JSON.parse(zlib.gunzipSync(Buffer.from(after, "base64")).toString("utf8"));
        expect(material.revoked.map((r: any) => r.name)).to.deep.equal(["dave"]);
    });

    it("parents every resource to the component", async () => {
        await run();
        const types = created.map((c) => c.type);
        expect(types).to.include.members([
            "vpn-gateway:index:VpnGateway",
            "aws:ec2/securityGroup:SecurityGroup",
            "aws:ec2/eip:Eip",
            "aws:ec2/instance:Instance",
            "aws:ec2/eipAssociation:EipAssociation",
        ]);
        // The mock monitor sees children with the component's name as their prefix.
        for (const c of created.filter((c) => c.type !== "vpn-gateway:index:VpnGateway")) expect(c.name).to.match(/^vpn-gateway-test/);
    });

    it("tags what it creates", async () => {
        await run({ tags: { team: "net" } });
        for (const type of ["aws:ec2/securityGroup:SecurityGroup", "aws:ec2/eip:Eip", "aws:ec2/instance:Instance"]) {
            expect(one(type).inputs.tags, type).to.deep.equal({ Name: "vpn-gateway-test", team: "net" });
        }
    });

    it("marks the PSK secret, and never outputs a password", async () => {
        const outputs = await run();
        expect(await pulumi.isSecret(outputs.psk as pulumi.Output<string>)).to.equal(true);
        expect(await value(outputs.psk)).to.equal(PSK);
        expect(outputs.userNames).to.deep.equal(["alice", "bob"]);
        const plainOutputs = JSON.stringify({
            publicIp: await value(outputs.publicIp),
            userNames: outputs.userNames,
            instructions: await value(outputs.connectionInstructions),
        });
        for (const user of USERS) expect(plainOutputs).not.to.contain(user.password);
        expect(plainOutputs).not.to.contain(PSK);
    });

    it("generates a PSK when none is set, kept as a secret resource", async () => {
        const outputs = await run({ psk: undefined });
        const generated = one("random:index/randomPassword:RandomPassword");
        expect(generated.inputs).to.include({ length: 32, special: false });
        expect(await pulumi.isSecret(outputs.psk as pulumi.Output<string>)).to.equal(true);
        expect(await value(outputs.psk)).to.equal("GeneratedPsk0123456789abcdefGHIJ");
        expect(parametersCreated()[`${PARAMETER_PATH}/psk`]).to.include({ value: "GeneratedPsk0123456789abcdefGHIJ", secret: true });
        expect(userDataDocument(one("aws:ec2/instance:Instance"))).not.to.contain("GeneratedPsk0123456789abcdefGHIJ");
    });

    it("writes connection instructions for every platform, with the Windows NAT-T note", async () => {
        const text = await value((await run()).connectionInstructions);
        for (const platform of ["macOS", "iOS", "Windows", "Linux", "Android"]) expect(text).to.contain(platform);
        expect(text).to.contain("AssumeUDPEncapsulationContextOnSendRule");
        expect(text).to.contain("203.0.113.10");
        // the README's platform table: no Android generation connects with L2TP/IPsec, and it says why
        expect(text).to.match(/Android: L2TP\/IPsec is not supported\. Android 11 and older offer only the weak MODP1024/);
        expect(text).to.contain("Android 12 and\n  later create only IKEv2 profiles: use IKEv2 (below).");
        expect(text).not.to.match(/type "L2TP\/IPSec PSK"/);
        expect(text).to.contain("One device per public address at a time");
    });

    it("says where IKEv2 profiles come from: npm run client per user and format, or a local render's DIR/clients/NAME/", async () => {
        const text = await value(
            (
                await run({
                    users: [...USERS, { name: "dave", methods: ["ikev2"], devices: ["phone", "laptop"] }, { name: "erin", methods: ["ikev2"], revoked: true }],
                })
            ).connectionInstructions,
        );
        expect(text).to.contain("L2TP/IPsec users: alice, bob\n");
        expect(text).to.contain("IKEv2 certificates (a user's name, or NAME.DEVICE for users[N].devices): alice, bob, dave.phone, dave.laptop\n");
        expect(text).to.contain("npm run client -- --user NAME [--device DEVICE] --format FORMAT");
        for (const format of ["mobileconfig", "windows", "android", "sswan", "networkmanager", "p12", "p12-password", "ca"])
            expect(text).to.contain(`--format ${format}`);
        expect(text).to.contain("npm run render -- --out-dir DIR) writes the same profiles to DIR/clients/NAME/");
        expect(text).not.to.contain("PRIVATE KEY");
    });

    describe("looks up the image of each os for the instance type's architecture", () => {
        // Written out literally (not taken from IMAGES): a wrong owner or pattern there must fail here.
        const CANONICAL = "099720109477";
        const DEBIAN = "136693071363";
        const cases = [
            { os: "ubuntu-24.04", type: "t3.micro", arch: "x86_64", owner: CANONICAL, name: "ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04-amd64-server-*" },
            { os: "ubuntu-24.04", type: "t4g.small", arch: "arm64", owner: CANONICAL, name: "ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04-arm64-server-*" },
            { os: "ubuntu-26.04", type: "t3.micro", arch: "x86_64", owner: CANONICAL, name: "ubuntu/images/hvm-ssd-gp3/ubuntu-resolute-26.04-amd64-server-*" },
            { os: "ubuntu-26.04", type: "t4g.small", arch: "arm64", owner: CANONICAL, name: "ubuntu/images/hvm-ssd-gp3/ubuntu-resolute-26.04-arm64-server-*" },
            { os: "debian-12", type: "t3.micro", arch: "x86_64", owner: DEBIAN, name: "debian-12-amd64-*" },
            { os: "debian-12", type: "t4g.small", arch: "arm64", owner: DEBIAN, name: "debian-12-arm64-*" },
            { os: "debian-13", type: "t3.micro", arch: "x86_64", owner: DEBIAN, name: "debian-13-amd64-*" },
            { os: "debian-13", type: "t4g.small", arch: "arm64", owner: DEBIAN, name: "debian-13-arm64-*" },
        ];
        cases.forEach((c, i) => {
            it(`${c.os} on ${c.type} (${c.arch}): owner ${c.owner}, ${c.name}`, async () => {
                // A different id per case: the instance must carry the one this lookup returned.
                knobs.amiId = `ami-0c0ffee00000000${i}`;
                await run({ os: c.os, instanceType: c.type });
                const lookups = calls.filter((call) => call.token === "aws:ec2/getAmi:getAmi");
                expect(lookups, "one image lookup").to.have.length(1);
                const ami = lookups[0].inputs;
                expect(ami.owners).to.deep.equal([c.owner]);
                expect(ami.mostRecent).to.equal(true);
                const filters = Object.fromEntries(ami.filters.map((f: any) => [f.name, f.values]));
                expect(filters).to.deep.equal({ name: [c.name], architecture: [c.arch], "virtualization-type": ["hvm"] });
                const instance = one("aws:ec2/instance:Instance").inputs;
                expect(instance.ami).to.equal(`ami-0c0ffee00000000${i}`);
                expect(instance.instanceType).to.equal(c.type);
            });
        });

        it("defaults to ubuntu-24.04 when os is not set", async () => {
            await run({ os: undefined });
            const ami = calls.find((call) => call.token === "aws:ec2/getAmi:getAmi")!.inputs;
            expect(ami.owners).to.deep.equal(["099720109477"]);
            expect(ami.filters.find((f: any) => f.name === "name").values).to.deep.equal(["ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04-amd64-server-*"]);
        });
    });

    it("uses a given AMI and subnet without looking them up", async () => {
        await run({ amiId: "ami-0fedcba9876543210", subnetId: "subnet-0123456789abcdef0" });
        expect(calls.map((c) => c.token)).not.to.include("aws:ec2/getAmi:getAmi");
        const instance = one("aws:ec2/instance:Instance").inputs;
        expect(instance.ami).to.equal("ami-0fedcba9876543210");
        expect(instance.subnetId).to.equal("subnet-0123456789abcdef0");
        expect(one("aws:ec2/securityGroup:SecurityGroup").inputs.vpcId).to.equal("vpc-0other");
    });

    describe("stops before creating anything", () => {
        async function refused(overrides: Record<string, unknown>, message: RegExp) {
            created.length = 0;
            let error: Error | undefined;
            try {
                await deploy(rawConfig(overrides), "test");
            } catch (e) {
                error = e as Error;
            }
            expect(error, "deploy should fail").to.be.instanceOf(Error);
            expect(error!.message).to.match(message);
            // A look-up fails inside the component, after Pulumi has registered it: the component
            // may exist, empty; no child may.
            expect(
                created.filter((r) => r.type !== "vpn-gateway:index:VpnGateway").map((r) => r.type),
                "no resource but the (empty) component may exist",
            ).to.deep.equal([]);
        }

        it("on invalid config, not even the component", async () => {
            await refused({ psk: "short" }, /vpn-gateway:psk: is 5 characters/);
            expect(created, "invalid input is refused before the component is registered").to.deep.equal([]);
        });
        it("on a pool that overlaps the VPC", async () => {
            knobs.vpcCidr = "192.168.0.0/16";
            await refused({}, /vpn-gateway:clientPool: 192.168.42.0\/24 overlaps the VPC's 192.168.0.0\/16/);
        });
        it("on a subnet outside the named VPC", () =>
            refused({ vpcId: "vpc-0123456789abcdef0", subnetId: "subnet-0123456789abcdef0" }, /is in vpc-0other, not in vpn-gateway:vpcId/));
        it("when the region has no default VPC", async () => {
            knobs.defaultVpcExists = false;
            await refused({}, /has no default VPC; set vpn-gateway:vpcId and vpn-gateway:subnetId/);
        });
        it("on a stack name that cannot name SSM parameters", async () => {
            created.length = 0;
            let error: Error | undefined;
            await deploy(rawConfig(), "dev stack").catch((e) => (error = e));
            expect(error?.message).to.match(
                /stack name "dev stack": it names the stack's SSM parameters \(\/vpn-gateway\/<stack>\/...\) and its IAM role .*, so it may hold only letters, digits/,
            );
            expect(created).to.deep.equal([]);
        });
        it("on a stack name too long for the IAM role's name", async () => {
            created.length = 0;
            let error: Error | undefined;
            await deploy(rawConfig(), "s".repeat(45)).catch((e) => (error = e));
            expect(error?.message).to.match(/IAM role \(vpn-gateway-<stack>-<7 random characters>, at most 64\).* at most 44 characters \(this one has 45\)/);
            expect(created).to.deep.equal([]);
        });
    });
});

describe("the first boot in the resource tree (mock runtime)", () => {
    const GATEWAY_URN = "urn:pulumi:test::vpn-gateway::vpn-gateway:index:VpnGateway::vpn-gateway-test";

    it("has each part once, a child of the gateway, named like it", async () => {
        await run();
        expect(one("vpn-gateway:index:VpnGateway").urn).to.equal(GATEWAY_URN);
        for (const type of PART_TYPES) {
            const part = one(type);
            expect(part.parent, type).to.equal(GATEWAY_URN);
            expect(part.name, type).to.equal("vpn-gateway-test");
            expect(part.urn, type).to.equal(`urn:pulumi:test::vpn-gateway::vpn-gateway:index:VpnGateway$${type}::vpn-gateway-test`);
        }
    });

    it("keeps the AWS resources' names and parent (their URNs)", async () => {
        await run();
        for (const type of AWS_TYPES) {
            expect(one(type).urn, type).to.equal(`urn:pulumi:test::vpn-gateway::vpn-gateway:index:VpnGateway$${type}::vpn-gateway-test`);
        }
    });

    it("generates the PSK under the IPsec part, aliased to where it was, so an existing stack keeps it", async () => {
        await run({ psk: undefined });
        const generated = one("random:index/randomPassword:RandomPassword");
        const ipsec = one("vpn-gateway:boot:Ipsec");
        expect(generated.name).to.equal("vpn-gateway-test-psk");
        expect(generated.parent).to.equal(ipsec.urn);
        expect(generated.aliases).to.have.length(1);
        const spec = generated.aliases[0].spec!;
        // Same name and type (empty: the current ones), the gateway as the parent.
        expect(spec).to.include({ name: "", type: "", parenturn: GATEWAY_URN });
        expect(spec.noparent).not.to.equal(true);
        // The URN the alias stands for, as the engine computes it: the generated PSK's URN before
        // the parts existed.
        const aliasUrn = `urn:pulumi:test::vpn-gateway::${spec.parenturn.split("::")[2]}$${generated.type}::${generated.name}`;
        expect(aliasUrn).to.equal(
            "urn:pulumi:test::vpn-gateway::vpn-gateway:index:VpnGateway$random:index/randomPassword:RandomPassword::vpn-gateway-test-psk",
        );
        expect(generated.urn).not.to.equal(aliasUrn);
    });

    it("generates no PSK when the config has one", async () => {
        await run();
        expect(of("random:index/randomPassword:RandomPassword")).to.deep.equal([]);
    });

    const variants: Array<[string, Record<string, unknown>]> = [
        ["the test stack", {}],
        ["a generated PSK", { psk: undefined }],
        ["SSH from an admin CIDR, clients reaching each other", { adminCidr: "198.51.100.7/32", sshKeyName: "ops", allowClientToClient: "true" }],
        ["debian-13 (Libreswan 5)", { os: "debian-13" }],
        [
            "another pool and DNS",
            {
                clientPool: "10.99.0.0/24",
                dnsServers: ["1.1.1.1"],
                users: [
                    { name: "a", password: "pw-a-123", ip: "10.99.0.7" },
                    { name: "b", password: "pw-b-456" },
                ],
            },
        ],
        // L2TP only: 5,000 certificates are 5,000 RSA keys (minutes); the layout is the point here
        [
            "5,000 users",
            {
                clientPool: "10.20.0.0/16",
                users: Array.from({ length: 5000 }, (_, i) => ({
                    name: `user${i}`,
                    password: `password-${i}-xxxxxxxx`,
                    methods: i === 0 ? undefined : ["l2tp"],
                })),
            },
        ],
    ];
    for (const [label, overrides] of variants) {
        it(`gives EC2 the pure composer's exact bytes, and SSM the layout's exact parameters: ${label}`, async () => {
            await run(overrides);
            const settings = parseSettings(rawConfig(overrides));
            const psk = settings.psk ?? "GeneratedPsk0123456789abcdefGHIJ";
            const expected = userDataBytes(cloudConfig({ settings, region: REGION, parameterPath: PARAMETER_PATH, publicIp: "203.0.113.10" }));
            const given = userDataBytesOf(one("aws:ec2/instance:Instance"));
            expect(given.equals(expected), "user-data bytes").to.equal(true);
            const made = parametersCreated();
            const layout = [
                ...gatewayParameters({ parameterPath: PARAMETER_PATH, psk, users: settings.users }),
                ...(await ikev2Expected("test", PARAMETER_PATH, overrides)),
            ];
            expect(Object.keys(made).sort()).to.deep.equal(layout.map((p) => p.name).sort());
            for (const p of layout) expect(made[p.name].value, p.name).to.equal(p.value);
        });
    }
});

describe("deploy-time health check", () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded once ../mocks has set the Pulumi mocks, as Pulumi's unit-testing guide asks: a require keeps that order explicit
    const { parseProbeOutput, probeCommand } = require("../../components/aws/gateway") as typeof import("../../components/aws/gateway");

    it("runs the project's IKE probe against the Elastic IP once it is associated", async () => {
        const outputs: any = await run();
        const check = one("command:local:Command");
        expect(check.inputs.create).to.contain("cli/probe.ts' '--host' '203.0.113.10' '--timeout' '900'");
        expect(check.inputs.triggers).to.deep.equal(["vpn-gateway-test-id", "vpn-gateway-test-id"]);
        expect(await value(outputs.health)).to.equal("ready");
        expect(await value(outputs.timeToReady)).to.equal(73.4);
    });

    it("never reports ready from output it cannot read", async () => {
        knobs.probeStdout = undefined;
        try {
            const outputs: any = await run();
            expect(await value(outputs.health)).to.equal("not ready: the probe printed nothing");
        } finally {
            knobs.probeStdout = '{"ready":true,"seconds":73.4,"attempts":15,"detail":"203.0.113.10:500 accepted the IKE proposal"}';
        }
    });

    it("can be turned off", async () => {
        const outputs: any = await run({ healthCheckTimeout: "0" });
        expect(of("command:local:Command")).to.deep.equal([]);
        expect(outputs.health).to.equal(undefined);
    });

    it("quotes its arguments for the shell", () => {
        expect(probeCommand("203.0.113.10", 60)).to.match(/^'[^']+' '-r' '[^']+' '[^']+probe\.ts' '--host' '203\.0\.113\.10' '--timeout' '60'$/);
    });

    it("names the project's own cli/probe.ts, wherever gateway.ts lives", () => {
        const script = probeCommand("203.0.113.10", 60).split("' '")[3];
        expect(script).to.equal(path.join(__dirname, "..", "..", "cli", "probe.ts"));
        expect(fs.existsSync(script), script).to.equal(true);
    });

    it("reads the probe's verdict line", () => {
        expect(parseProbeOutput('probe noise\n{"ready":true,"seconds":42.5,"attempts":9,"detail":"ok"}\n')).to.deep.equal({
            ready: true,
            seconds: 42.5,
            attempts: 9,
            detail: "ok",
        });
        expect(parseProbeOutput("garbage").ready).to.equal(false);
    });
});
