// VpnGateway as a library component under Pulumi's mock runtime: every resource constructed before
// any Output is known (what `pulumi preview` lists), the args validated with each problem naming
// its field, and a stack made by 0.1.0 keeping every resource's name.
import { expect } from "chai";
import * as fs from "fs";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { PSK, USERS, rawConfig } from "../helpers";
import { created, knobs, pkiStates } from "../mocks";
import type { VpnGatewayUser } from "../../components";

// Imported after the mocks are set, as the runtime requires.
// eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded once ../mocks has set the Pulumi mocks, as Pulumi's unit-testing guide asks: a require keeps that order explicit
const { VpnGateway, ConfigError } = require("../../components") as typeof import("../../components");
// eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded once ../mocks has set the Pulumi mocks, as Pulumi's unit-testing guide asks: a require keeps that order explicit
const { deploy } = require("../../components/aws/deploy") as typeof import("../../components/aws/deploy");

const value = <T>(output: pulumi.Output<T>) => new Promise<T>((resolve) => output.apply((v) => resolve(v)));

describe("VpnGateway, the library component (mock runtime)", () => {
    let held: Array<() => void> = [];
    afterEach(() => {
        knobs.hold = undefined;
        held.forEach((release) => release());
        held = [];
    });

    it("constructs every resource before any Output resolves: nothing is created inside an apply", async () => {
        created.length = 0;
        knobs.hold = held;
        const constructed: string[] = [];
        const record: pulumi.ResourceTransformation = (args) => {
            constructed.push(`${args.type}::${args.name}`);
            return undefined;
        };
        const users: VpnGatewayUser[] = [...USERS, { name: "dora", methods: ["ikev2"], devices: ["phone", "laptop"] }];
        const gateway = new VpnGateway("preview", { users, psk: PSK, healthCheckTimeout: 0 }, { transformations: [record] });
        await gateway.whenCreated();
        // Let every registration that can start reach the (holding) monitor.
        await new Promise((resolve) => setTimeout(resolve, 300));
        // No custom resource has been registered to completion: none of their Outputs is known.
        expect(
            created.filter((c) => !c.type.startsWith("vpn-gateway:")),
            "registered while held",
        ).to.deep.equal([]);
        expect(held.length, "registrations waiting").to.be.above(0);
        const before = constructed.filter((k) => k !== "vpn-gateway:index:VpnGateway::preview").sort();

        knobs.hold = undefined;
        held.forEach((release) => release());
        held = [];
        await value(gateway.connectionInstructions);
        await value(gateway.instanceId);
        const mine = (urn: string): boolean => urn.endsWith("::preview") || created.some((c) => c.urn === urn && mine(c.parent));
        const registeredNow = () => created.filter((c) => c.type !== "vpn-gateway:index:VpnGateway" && mine(c.parent)).map((c) => `${c.type}::${c.name}`);
        // Until the update has registered at least as many as were constructed (a slow machine
        // takes longer), then a moment for any more: one made in an apply would come after.
        for (let waited = 0; registeredNow().length < before.length && waited < 20000; waited += 50) await new Promise((resolve) => setTimeout(resolve, 50));
        await new Promise((resolve) => setTimeout(resolve, 200));
        const registered = registeredNow();
        expect(registered.sort(), "what the update registers is what was constructed before any Output resolved").to.deep.equal(before);
        // dora's two devices and the others' certificates: the IKEv2 material's pieces are among them
        expect(before.filter((k) => k.startsWith("aws:ssm/parameter:Parameter::preview-ikev2-")).length).to.be.at.least(2);
    });

    it("validates its args before registering anything, every problem at once, each naming its field", () => {
        created.length = 0;
        let error: unknown;
        try {
            new VpnGateway("bad", { users: [{ name: "a b", password: 'pa"ss' }], clientPool: "10.0.0.0/8", psk: "short", nonsense: 1 } as never);
        } catch (e) {
            error = e;
        }
        expect(error).to.be.instanceOf(ConfigError);
        const message = (error as Error).message;
        expect(message).to.match(/^VpnGateway "bad": invalid arguments/);
        for (const field of [/^ {2}- users\[0\]\.name: /m, /^ {2}- users\[0\]\.password: /m, /^ {2}- clientPool: /m, /^ {2}- psk: /m, /^ {2}- nonsense: /m]) {
            expect(message).to.match(field);
        }
        expect(message, "never the stack config's key names").not.to.contain("vpn-gateway:");
        expect(message, "never a secret").not.to.contain("short");
        expect(created).to.deep.equal([]);
    });

    it("keeps every resource name of a stack made by 0.1.0 (aliases where one moved)", async () => {
        // The URNs today's default stack "dev" had under 0.1.0 (the mock monitor's form).
        const before = fs
            .readFileSync(path.join(__dirname, "fixtures", "stack-urns-0.1.0.txt"), "utf8")
            .trim()
            .split("\n");
        created.length = 0;
        pkiStates.clear();
        const outputs = await deploy(rawConfig(), "dev");
        await value(outputs.connectionInstructions);
        await value(outputs.instanceId);
        if (outputs.health) await value(outputs.health);
        const now = new Set(created.map((c) => c.urn));
        const aliased = new Set(created.flatMap((c) => c.aliases.map((a) => a.urn)).filter((u) => u));
        const lost = before.filter((urn) => !now.has(urn) && !aliased.has(urn));
        expect(lost, "0.1.0 resources neither kept nor aliased (pulumi up would replace them)").to.deep.equal([]);
        expect(outputs.parameterPath).to.equal("/vpn-gateway/dev");
        expect(pkiStates.get("vpn-gateway-dev-pki")!.ca.certPem).to.be.a("string");
    });
});
