// Property-based: every config value, random or adversarial, is either refused with a message
// naming its key, or lands in the files so that parsing them back yields exactly what was meant.
import { expect } from "chai";
import fc from "fast-check";
import { parse } from "yaml";
import { cloudConfig } from "../components/boot/cloudConfig";
import { ConfigError, RawConfig, parseSettings } from "../components/config/settings";

const RUNS = Number(process.env.FUZZ_RUNS ?? 300);

/** Characters that have meaning somewhere along the way: shells, YAML, chap-secrets, ipsec.secrets. */
const nasty = fc.constantFrom(..."\"'\\#*\n\r\t :{}[]&!|>%@`$,;=-?/\u0000\u007f\u00e9\u2028\ufeff😀".split(""), "\r\n", "${x}", "{{x}}", "&#x2F;", "---", "...");
const adversarialString = fc.oneof(
    fc.string({ maxLength: 40 }),
    fc.fullUnicodeString({ maxLength: 20 }),
    fc.array(fc.oneof(nasty, fc.string({ maxLength: 4 })), { maxLength: 12 }).map((parts) => parts.join("")),
    fc.string({ minLength: 100, maxLength: 300 }),
    fc.constantFrom("", "null", "~", "true", "0x1F", "1e3", "yes", "-", "*", "@x", "#"),
);

/** chap-secrets as pppd reads it: words separated by blanks, quotes group, '#' comments, backslash escapes. */
function pppdWords(line: string): string[] {
    const words: string[] = [];
    let i = 0;
    while (i < line.length) {
        while (i < line.length && /\s/.test(line[i])) i++;
        if (i >= line.length || line[i] === "#") break;
        let word = "";
        let quote: string | undefined;
        while (i < line.length && (quote || !/\s/.test(line[i]))) {
            const ch = line[i++];
            if (ch === "\\" && i < line.length) word += line[i++];
            else if (quote && ch === quote) quote = undefined;
            else if (!quote && (ch === '"' || ch === "'")) quote = ch;
            else if (!quote && ch === "#") {
                i = line.length;
                break;
            } else word += ch;
        }
        words.push(word);
    }
    return words;
}

function filesOf(raw: RawConfig): Map<string, string> {
    const settings = parseSettings(raw);
    const document = cloudConfig({ settings, psk: settings.psk ?? "generated-psk-0123456789", publicIp: "203.0.113.10" });
    const parsed = parse(document) as { write_files: Array<{ path: string; content: string }> };
    return new Map(parsed.write_files.map((f) => [f.path, f.content]));
}

/** Either accepted, or refused with a ConfigError whose every problem names a vpn-gateway key. */
function acceptedOrExplained(raw: RawConfig): Map<string, string> | undefined {
    try {
        return filesOf(raw);
    } catch (error) {
        expect(error, String(error)).to.be.instanceOf(ConfigError);
        for (const p of (error as ConfigError).problems) expect(p).to.match(/^vpn-gateway:[A-Za-z]+/);
        return undefined;
    }
}

describe("fuzzed config", function () {
    this.timeout(120000);

    it("users: one chap-secrets record per user, exactly as configured, or a clear refusal", () => {
        const user = fc.record({ name: adversarialString, password: adversarialString }, { requiredKeys: ["name", "password"] });
        fc.assert(
            fc.property(fc.array(user, { minLength: 1, maxLength: 4 }), (users) => {
                const files = acceptedOrExplained({ psk: "a-valid-psk-0123456789", users: JSON.stringify(users) });
                if (!files) return;
                const records = files
                    .get("/etc/ppp/chap-secrets")!
                    .split("\n")
                    .map(pppdWords)
                    .filter((w) => w.length > 0);
                expect(records).to.deep.equal(users.map((u) => [u.name, "l2tpd", u.password, "*"]));
            }),
            { numRuns: RUNS },
        );
    });

    it("psk: one PSK in ipsec.secrets, exactly as configured, or a clear refusal", () => {
        fc.assert(
            fc.property(adversarialString, (psk) => {
                const files = acceptedOrExplained({ psk, users: JSON.stringify([{ name: "a", password: "p" }]) });
                if (!files) return;
                const lines = files
                    .get("/etc/ipsec.secrets")!
                    .split("\n")
                    .filter((l) => l.trim() !== "" && !l.startsWith("#"));
                expect(lines).to.have.length(1);
                const match = /^%any %any : PSK "([^"\\\n]*)"$/.exec(lines[0]);
                expect(match, lines[0]).not.to.equal(null);
                expect(match![1]).to.equal(psk === "" ? "generated-psk-0123456789" : psk);
            }),
            { numRuns: RUNS },
        );
    });

    it("every other key: a value of any shape is accepted or refused with a message, never a stack trace", () => {
        const keys = ["clientPool", "dnsServers", "instanceType", "os", "amiId", "vpcId", "subnetId", "allowedCidrs", "sshKeyName", "adminCidr", "tags", "healthCheckTimeout", "users", "psk"];
        const anyValue = fc.oneof(adversarialString, fc.anything().map((v) => JSON.stringify(v) ?? "null"));
        fc.assert(
            fc.property(fc.constantFrom(...keys), anyValue, (key, value) => {
                const raw: RawConfig = { psk: "a-valid-psk-0123456789", users: JSON.stringify([{ name: "a", password: "p" }]), [key]: value };
                const files = acceptedOrExplained(raw);
                if (!files) return;
                // Whatever was accepted renders files with no injected lines: one PSK, and one user
                // unless the users themselves were the fuzzed value.
                const chapLines = files.get("/etc/ppp/chap-secrets")!.split("\n").filter((l) => l.startsWith('"'));
                if (key !== "users") expect(chapLines).to.have.length(1);
                expect(files.get("/etc/ipsec.secrets")!.split("\n").filter((l) => l.includes("PSK"))).to.have.length(1);
                // No HTML escaping anywhere (mustache's default), unless the value itself held an entity.
                if (!value.includes("&")) for (const content of files.values()) expect(content).not.to.match(/&#x|&quot;|&amp;/);
            }),
            { numRuns: RUNS * 2 },
        );
    });

    it("static addresses: a pinned user gets exactly one address inside the pool, never the gateway's", () => {
        fc.assert(
            fc.property(fc.oneof(fc.ipV4(), adversarialString), (ip) => {
                const files = acceptedOrExplained({ psk: "a-valid-psk-0123456789", users: JSON.stringify([{ name: "a", password: "p", ip }]) });
                if (!files) return;
                const record = files.get("/etc/ppp/chap-secrets")!.split("\n").map(pppdWords).find((w) => w[0] === "a")!;
                const octets = record[3].split(".").map(Number);
                expect(ip === "" ? "*" : record[3]).to.equal(ip === "" ? "*" : ip);
                if (ip !== "") {
                    expect(octets.slice(0, 3)).to.deep.equal([192, 168, 42]);
                    // the lower half after the gateway's .1: xl2tpd hands out .128-.254
                    expect(octets[3]).to.be.within(2, 127);
                    expect(files.get("/etc/xl2tpd/xl2tpd.conf")).not.to.match(new RegExp(`ip range = [^\\n]*\\b${ip.replace(/\./g, "\\.")}-`));
                }
            }),
            { numRuns: RUNS },
        );
    });
});
