// The config's one schema (components/config/schema.ts): what is generated from it is up to date,
// it names exactly the keys the program reads, and the validator enforces what it states.
import { expect } from "chai";
import { parse } from "yaml";
import { CONFIG_KEYS, ConfigError, PROJECT, RawConfig, parseSettings } from "../../components/config/settings";
import { Entry, Field, Item, Limits, METHODS, SCHEMA, USER_FIELDS, USER_FIELDS_SCHEMA } from "../../components/config/schema";
import { firstDifference, generated } from "../../scripts/gen-config";

const USER = { name: "alice", password: "a-long-password" };
const USERS = JSON.stringify([USER]);

/** The problems of a config the validator refuses; undefined when it accepts it. */
function problems(raw: RawConfig): string[] | undefined {
    try {
        parseSettings(raw);
        return undefined;
    } catch (error) {
        expect(error).to.be.instanceOf(ConfigError);
        return (error as ConfigError).problems;
    }
}

/** Where a limit applies: how a value is put there, and the name the validator's messages give it. */
interface Target {
    /** For the test's name. */
    label: string;
    at: string;
    put: (value: unknown) => RawConfig;
    /** The i-th of a list's distinct valid items, for its length limits. */
    item?: (i: number) => unknown;
    /** A valid value, for a pattern's limits. */
    sample?: string;
}

const asRaw = (value: unknown) => (typeof value === "string" ? value : JSON.stringify(value));

// Test data, not limits: valid values for where the schema states a pattern or a list length.
const ITEMS: Record<string, (i: number) => unknown> = {
    users: (i) => ({ name: `user${i}`, password: "a-long-password" }),
    dnsServers: (i) => `10.0.0.${i + 1}`,
    allowedCidrs: (i) => `203.0.113.${i}/32`,
    "users[0].methods": (i) => METHODS[i],
    "users[0].devices": (i) => `device${i}`,
};
const SAMPLES: Record<string, string> = {
    instanceType: "t3.micro",
    amiId: "ami-0123456789abcdef0",
    vpcId: "vpc-0123456789abcdef0",
    subnetId: "subnet-0123456789abcdef0",
    sshKeyName: "my key",
    "users[0].devices[0]": "phone",
};
/** What a key needs beside it to be accepted. */
const BESIDE: Record<string, RawConfig> = { vpcId: { subnetId: SAMPLES.subnetId } };

/** Every place the schema states limits: its keys, users[N]'s fields, list items, map names and values. */
function targets(): [Target, Limits][] {
    const out: [Target, Limits][] = [];
    const visit = (path: string, d: Entry | Field, put: (value: unknown) => RawConfig) => {
        const at = `${PROJECT}:${path}`;
        if (d.limits) out.push([{ label: path, at, put, item: ITEMS[path], sample: SAMPLES[path] }, d.limits]);
        if (d.items) visitItem(`${path}[0]`, d.items, (v) => put([v]));
        if (d.names) out.push([{ label: `${path} (names)`, at, put: (name) => put({ [name as string]: "v" }) }, d.names]);
        if (d.values) visitItem(path, d.values, (v) => put({ team: v }), `${path} (values)`);
    };
    const visitItem = (path: string, item: Item, put: (value: unknown) => RawConfig, label = path) => {
        if (item.type === "object") {
            for (const [name, field] of Object.entries<Field>(item.fields)) {
                visit(`${path}.${name}`, field, (v) => put({ ...USER, [name]: v }));
            }
        } else if (item.limits) {
            out.push([{ label, at: `${PROJECT}:${path}`, put, sample: SAMPLES[path] }, item.limits]);
        }
    };
    for (const key of CONFIG_KEYS) {
        visit(key, SCHEMA[key], (v) => ({ ...(key === "users" ? {} : { users: USERS }), ...BESIDE[key], [key]: asRaw(v) }));
    }
    return out;
}

/** Values at each limit and one past it. */
function probes(t: Target, limits: Limits): { limit: string; accepted: unknown[]; refused: unknown[] }[] {
    const out: { limit: string; accepted: unknown[]; refused: unknown[] }[] = [];
    const text = (n: number) => "a".repeat(n);
    const items = (n: number) => {
        expect(t.item, `${t.at}: the test needs valid items (ITEMS) for its list length limits`).to.not.equal(undefined);
        return Array.from({ length: n }, (_, i) => t.item!(i));
    };
    const pool = (prefix: number) => `10.0.0.0/${prefix}`;
    for (const [limit, value] of Object.entries(limits)) {
        switch (limit) {
            case "minLength":
                out.push({ limit, accepted: [text(value)], refused: value > 0 ? [text(value - 1)] : [] });
                break;
            case "maxLength":
                out.push({ limit, accepted: [text(value)], refused: [text(value + 1)] });
                break;
            case "minimum":
                out.push({ limit, accepted: [value], refused: [value - 1] });
                break;
            case "maximum":
                out.push({ limit, accepted: [value], refused: [value + 1] });
                break;
            case "minItems":
                out.push({ limit, accepted: [items(value)], refused: value > 0 ? [items(value - 1)] : [] });
                break;
            case "maxItems":
                out.push({ limit, accepted: [items(value)], refused: [items(value + 1)] });
                break;
            case "prefixMin":
                out.push({ limit, accepted: [pool(value)], refused: [pool(value - 1)] });
                break;
            case "prefixMax":
                out.push({ limit, accepted: [pool(value)], refused: [pool(value + 1)] });
                break;
            case "oneOf":
                out.push({ limit, accepted: [...value], refused: ["none-of-these"] });
                break;
            case "pattern": {
                const pattern = value as RegExp;
                expect(t.sample, `${t.at}: the test needs a valid value (SAMPLES) for its pattern`).to.be.a("string");
                expect(t.sample, `${t.at}: the sample should match ${pattern}`).to.match(pattern);
                const bad = ["not valid", "\t", "-"].find((v) => !pattern.test(v));
                out.push({ limit, accepted: [t.sample], refused: bad === undefined ? [] : [bad] });
                break;
            }
            default:
                expect.fail(`${t.at}: no probe for the limit ${limit}; teach test/config/schema.test.ts how to check it`);
        }
    }
    return out;
}

describe("config schema (components/config/schema.ts)", () => {
    for (const { file, current, expected } of generated()) {
        it(`${file} is what npm run gen:config writes from it`, () => {
            const difference = firstDifference(current, expected);
            expect(difference, `${file} differs from what the schema gives, ${difference}; npm run gen:config fixes it`).to.equal(undefined);
        });
    }

    it("states every key the program reads, and no other", () => {
        expect(Object.keys(SCHEMA)).to.have.members([...CONFIG_KEYS]);
        expect(Object.keys(SCHEMA)).to.have.lengthOf(CONFIG_KEYS.length);
        expect(USER_FIELDS).to.deep.equal(Object.keys(USER_FIELDS_SCHEMA));
    });

    it("has defaults the validator accepts and applies itself when the key is unset", () => {
        const raw: RawConfig = { users: JSON.stringify([{ ...USER, ...userDefaults() }]) };
        for (const key of CONFIG_KEYS) {
            const d: Entry = SCHEMA[key];
            if (d.default !== undefined) raw[key] = asRaw(d.default);
        }
        expect(problems(raw)).to.equal(undefined);
        expect(parseSettings(raw)).to.deep.equal(parseSettings({ users: USERS }));
    });

    it("gives Pulumi.yaml defaults the program takes as unset (what the Pulumi CLI hands over)", () => {
        const config = parse(generated().find((g) => g.file === "Pulumi.yaml")!.current).config as Record<string, { default?: unknown }>;
        const raw: RawConfig = { users: USERS };
        for (const [key, declared] of Object.entries(config)) {
            expect(CONFIG_KEYS as readonly string[], key).to.include(key);
            expect(declared, `${key} has a default`).to.have.property("default");
            raw[key] = asRaw(declared.default);
        }
        expect(parseSettings(raw)).to.deep.equal(parseSettings({ users: USERS }));
    });

    describe("states limits the validator enforces: a value at each accepted, one past it refused naming the key", () => {
        for (const [target, limits] of targets()) {
            it(`${target.label}: ${Object.keys(limits).join(", ")}`, () => {
                for (const { limit, accepted, refused } of probes(target, limits)) {
                    for (const value of accepted) {
                        const found = problems(target.put(value));
                        expect(found, `${target.at} ${limit}: ${JSON.stringify(value)} should be accepted`).to.equal(undefined);
                    }
                    for (const value of refused) {
                        const found = problems(target.put(value));
                        expect(found, `${target.at} ${limit}: ${JSON.stringify(value)} should be refused`).to.not.equal(undefined);
                        expect(
                            found!.some((p) => p.startsWith(target.at)),
                            `${target.at} ${limit}: ${JSON.stringify(value)} refused with ${JSON.stringify(found)}, none naming ${target.at}`,
                        ).to.equal(true);
                    }
                }
            });
        }
    });

    it("says each bound and allowed value in the description of what it limits", () => {
        const check = (path: string, d: Entry | Field) => {
            const all: Limits[] = [d.limits ?? {}, d.names ?? {}];
            for (const item of [d.items, d.values]) if (item && item.type !== "object") all.push(item.limits ?? {});
            for (const l of all) {
                const numbers = [l.maxLength, l.maximum, l.maxItems, l.prefixMin, l.prefixMax];
                if ((l.minLength ?? 0) > 1) numbers.push(l.minLength);
                if ((l.minItems ?? 0) > 1) numbers.push(l.minItems);
                if ((l.minimum ?? 0) > 0) numbers.push(l.minimum);
                for (const n of numbers) if (n !== undefined) expect(d.description, `${path}: ${n}`).to.match(new RegExp(`(^|[^0-9])${n}([^0-9]|$)`));
                for (const v of l.oneOf ?? []) expect(d.description, `${path}: ${v}`).to.include(v);
            }
            if (d.items?.type === "object") for (const [name, field] of Object.entries<Field>(d.items.fields)) check(`${path}[N].${name}`, field);
        };
        for (const key of CONFIG_KEYS) check(key, SCHEMA[key]);
    });
});

function userDefaults(): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const [name, field] of Object.entries<Field>(USER_FIELDS_SCHEMA)) {
        if (field.default !== undefined) out[name] = field.default;
    }
    return out;
}
