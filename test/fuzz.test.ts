// Property-based: every config value, random or adversarial, is either refused with a message
// naming its key, or lands where it belongs so that reading it back yields exactly what was meant:
// the users and the PSK in the stack's SSM parameters (and, through the gateway's own sync, in
// chap-secrets and ipsec.secrets as pppd and pluto read them), never in the user-data.
import { expect } from "chai";
import fc from "fast-check";
import { parse } from "yaml";
import { cloudConfig, gatewayParameters } from "../components/boot/cloudConfig";
import { SsmParameter } from "../components/boot/parameters";
import { CONFIG_KEYS, ConfigError, RawConfig, Settings, parseSettings } from "../components/config/settings";
import { pppdWords, syncReads } from "./helpers";

const RUNS = Number(process.env.FUZZ_RUNS ?? 300);

/** Characters that have meaning somewhere along the way: shells, YAML, chap-secrets, ipsec.secrets. */
const nasty = fc.constantFrom(
    ..."\"'\\#*\n\r\t :{}[]&!|>%@`$,;=-?/\u0000\u007f\u00e9\u2028\ufeff😀".split(""),
    "\r\n",
    "${x}",
    "{{x}}",
    "&#x2F;",
    "---",
    "...",
);
const adversarialString = fc.oneof(
    fc.string({ maxLength: 40 }),
    fc.fullUnicodeString({ maxLength: 20 }),
    fc.array(fc.oneof(nasty, fc.string({ maxLength: 4 })), { maxLength: 12 }).map((parts) => parts.join("")),
    fc.string({ minLength: 100, maxLength: 300 }),
    fc.constantFrom("", "null", "~", "true", "0x1F", "1e3", "yes", "-", "*", "@x", "#"),
);

const SYNC_JSON = "/etc/vpn-gateway/sync.json";

interface Rendered {
    settings: Settings;
    /** The user-data's files by path. */
    files: Map<string, string>;
    document: string;
    parameters: SsmParameter[];
}

function render(raw: RawConfig): Rendered {
    const settings = parseSettings(raw);
    const document = cloudConfig({ settings, region: "eu-west-1", parameterPath: "/vpn-gateway/fuzz", publicIp: "203.0.113.10" });
    const parsed = parse(document) as { write_files: Array<{ path: string; content: string }> };
    const parameters = gatewayParameters({ parameterPath: "/vpn-gateway/fuzz", psk: settings.psk ?? "generated-psk-0123456789", users: settings.users });
    return { settings, files: new Map(parsed.write_files.map((f) => [f.path, f.content])), document, parameters };
}

/** Either accepted, or refused with a ConfigError whose every problem names a vpn-gateway key. */
function acceptedOrExplained(raw: RawConfig): Rendered | undefined {
    try {
        return render(raw);
    } catch (error) {
        expect(error, String(error)).to.be.instanceOf(ConfigError);
        for (const p of (error as ConfigError).problems) expect(p).to.match(/^vpn-gateway:[A-Za-z]+/);
        return undefined;
    }
}

const byName = <T extends { name: string }>(users: T[]) => [...users].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));

/** The users the users parameters hold, in the order of their names. */
function usersIn(parameters: SsmParameter[]): Array<{ name: string; password: string; ip?: string }> {
    return byName(
        parameters
            .filter((p) => p.name.startsWith("/vpn-gateway/fuzz/users/"))
            .flatMap((p) => {
                const value = JSON.parse(p.value);
                expect(value.format).to.equal(1);
                expect(p.value.length).to.be.at.most(4096);
                return value.users as Array<{ name: string; password: string; ip?: string }>;
            }),
    );
}

/** The user-data of a stack with the fuzzed stacks' other settings: theirs must be the same bytes. */
const REFERENCE = render({ psk: "reference-psk-0123456789", users: JSON.stringify([{ name: "reference", password: "reference-pw" }]) }).document;
/** A secret that could not be in the user-data by accident of its own text. */
const findable = (secret: string) => secret.length >= 6 && !REFERENCE.includes(secret);

/** Every accepted case, checked through the gateway's own sync in one Python run at the end. */
function checkThroughTheSync(accepted: Rendered[]): void {
    const readings = syncReads(accepted.map((r) => ({ syncJson: r.files.get(SYNC_JSON)!, parameters: r.parameters })));
    readings.forEach((reading, i) => {
        const { settings } = accepted[i];
        expect(reading.problems, JSON.stringify(settings.users)).to.deep.equal([]);
        const records = reading
            .chapSecrets!.split("\n")
            .map(pppdWords)
            .filter((w) => w.length > 0);
        expect(records).to.deep.equal(byName(settings.users).map((u) => [u.name, "l2tpd", u.password, u.ip ?? "*"]));
        const lines = reading.ipsecSecrets!.split("\n").filter((l) => l.trim() !== "" && !l.startsWith("#"));
        expect(lines).to.have.length(1);
        const match = /^%any %any : PSK "([^"\\\n]*)"$/.exec(lines[0]);
        expect(match, lines[0]).not.to.equal(null);
        expect(match![1]).to.equal(settings.psk ?? "generated-psk-0123456789");
    });
}

describe("fuzzed config", function () {
    this.timeout(120000);

    it("users: exactly as configured in the parameters and in the sync's chap-secrets, never in the user-data, or a clear refusal", () => {
        const user = fc.record({ name: adversarialString, password: adversarialString }, { requiredKeys: ["name", "password"] });
        const accepted: Rendered[] = [];
        fc.assert(
            fc.property(fc.array(user, { minLength: 1, maxLength: 4 }), (users) => {
                const rendered = acceptedOrExplained({ psk: "a-valid-psk-0123456789", users: JSON.stringify(users) });
                if (!rendered) return;
                expect(usersIn(rendered.parameters)).to.deep.equal(byName(users));
                expect(rendered.document).to.equal(REFERENCE);
                for (const u of users) if (findable(u.password)) expect(rendered.document).not.to.contain(u.password);
                accepted.push(rendered);
            }),
            { numRuns: RUNS },
        );
        checkThroughTheSync(accepted);
    });

    it("psk: exactly as configured in its parameter and the sync's ipsec.secrets, never in the user-data, or a clear refusal", () => {
        const accepted: Rendered[] = [];
        fc.assert(
            fc.property(adversarialString, (psk) => {
                const rendered = acceptedOrExplained({ psk, users: JSON.stringify([{ name: "a", password: "p" }]) });
                if (!rendered) return;
                const parameter = rendered.parameters.find((p) => p.name === "/vpn-gateway/fuzz/psk")!;
                expect(parameter.value).to.equal(psk === "" ? "generated-psk-0123456789" : psk);
                expect(rendered.document).to.equal(REFERENCE);
                if (findable(psk)) expect(rendered.document).not.to.contain(psk);
                accepted.push(rendered);
            }),
            { numRuns: RUNS },
        );
        checkThroughTheSync(accepted);
    });

    it("every other key: a value of any shape is accepted or refused with a message, never a stack trace", () => {
        // every key of the schema, each of whose values must be accepted or explained
        const keys = [...CONFIG_KEYS];
        const anyValue = fc.oneof(
            adversarialString,
            fc.anything().map((v) => JSON.stringify(v) ?? "null"),
        );
        fc.assert(
            fc.property(fc.constantFrom(...keys), anyValue, (key, value) => {
                const raw: RawConfig = { psk: "a-valid-psk-0123456789", users: JSON.stringify([{ name: "a", password: "p" }]), [key]: value };
                const rendered = acceptedOrExplained(raw);
                if (!rendered) return;
                // Whatever was accepted gives one PSK parameter, and one user unless the users
                // themselves were the fuzzed value; every parameter within SSM's standard tier.
                expect(rendered.parameters.filter((p) => p.name === "/vpn-gateway/fuzz/psk")).to.have.length(1);
                if (key !== "users") expect(usersIn(rendered.parameters)).to.deep.equal([{ name: "a", password: "p" }]);
                for (const p of rendered.parameters) expect(p.value.length).to.be.within(1, 4096);
                // No HTML escaping anywhere (mustache's default), unless the value itself held an entity.
                if (!value.includes("&")) for (const content of rendered.files.values()) expect(content).not.to.match(/&#x|&quot;|&amp;/);
            }),
            { numRuns: RUNS * 2 },
        );
    });

    it("static addresses: a pinned user gets exactly one address of the pool's static half, never the gateway's", () => {
        const accepted: Rendered[] = [];
        fc.assert(
            fc.property(
                fc.oneof(
                    fc.ipV4(),
                    fc.integer({ min: 0, max: 255 }).map((n) => `192.168.42.${n}`),
                    adversarialString,
                ),
                (ip) => {
                    const rendered = acceptedOrExplained({ psk: "a-valid-psk-0123456789", users: JSON.stringify([{ name: "a", password: "p", ip }]) });
                    if (!rendered) return;
                    const [record] = usersIn(rendered.parameters);
                    expect(record.ip ?? "").to.equal(ip);
                    if (ip !== "") {
                        const octets = ip.split(".").map(Number);
                        expect(octets.slice(0, 3)).to.deep.equal([192, 168, 42]);
                        // the lower half after the gateway's .1: xl2tpd hands out .128-.254
                        expect(octets[3]).to.be.within(2, 127);
                        expect(rendered.files.get("/etc/xl2tpd/xl2tpd.conf")).to.contain("ip range = 192.168.42.128-192.168.42.254");
                    }
                    accepted.push(rendered);
                },
            ),
            { numRuns: RUNS },
        );
        // ...and the gateway's sync serves it on exactly that address
        checkThroughTheSync(accepted);
    });
});
