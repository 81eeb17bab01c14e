// The stack's SSM parameters (components/boot/parameters.ts): where each user lands, that every
// value fits SSM's standard tier at any size a config may have, and that one user's change
// rewrites one parameter.
import { expect } from "chai";
import { gatewayParameters } from "../../components/boot/cloudConfig";
import {
    PARAMETER_VALUE_LIMIT,
    STACK_NAME_MAX_LENGTH,
    SsmParameter,
    parameterPath,
    pskParameter,
    userBucket,
    usersParameters,
} from "../../components/boot/parameters";
import { programParameters } from "../../components/boot/sync";
import { ConfigError, NAME_MAX_LENGTH, PASSWORD_MAX_LENGTH, VpnUser } from "../../components/config/settings";

const PATH = "/vpn-gateway/test";

/** Realistic users: names of 5 to 20 characters, passwords of 16 to 32, one in ten with a static address. */
function realistic(count: number, seed = 0): VpnUser[] {
    return Array.from({ length: count }, (_, i) => {
        const n = i + seed * 1000003;
        return {
            name: `${["anna", "bjorn", "chen", "dmitri", "eve", "farah"][n % 6]}.${n.toString(36)}`.slice(0, 20),
            password: `Pw-${(n * 7919).toString(36)}-${"k".repeat(n % 17)}`.padEnd(16, "x"),
            ...(i % 10 === 0 ? { ip: `10.20.${Math.floor(i / 200) % 128}.${(i % 200) + 2}` } : {}),
        };
    });
}

/** The longest users a config may hold: names of 64, passwords of 128 characters, every one static. */
function longest(count: number): VpnUser[] {
    return Array.from({ length: count }, (_, i) => ({
        name: `${i}-`.padEnd(NAME_MAX_LENGTH, "n"),
        password: `${i}-`.padEnd(PASSWORD_MAX_LENGTH, "p"),
        ip: `10.20.${Math.floor(i / 250)}.${(i % 250) + 2}`,
    }));
}

const valuesByName = (parameters: SsmParameter[]) => new Map(parameters.map((p) => [p.name, p.value]));

/** The parameters whose value differs, or that exist on one side only. */
function changed(before: SsmParameter[], after: SsmParameter[]): string[] {
    const a = valuesByName(before);
    const b = valuesByName(after);
    return [...new Set([...a.keys(), ...b.keys()])].filter((n) => a.get(n) !== b.get(n)).sort();
}

function usersOf(parameters: SsmParameter[]): VpnUser[] {
    return parameters.flatMap((p) => JSON.parse(p.value).users).sort((x: VpnUser, y: VpnUser) => (x.name < y.name ? -1 : 1));
}

describe("SSM parameters", () => {
    it("live under /vpn-gateway/<stack>, a stack name SSM can take", () => {
        expect(parameterPath("dev")).to.equal("/vpn-gateway/dev");
        expect(parameterPath("prod_eu-west.1")).to.equal("/vpn-gateway/prod_eu-west.1");
        for (const bad of ["", "my stack", "a/b", "dév", "x".repeat(101), "a:b"]) {
            expect(() => parameterPath(bad), JSON.stringify(bad)).to.throw(ConfigError, /may hold only letters, digits, '_', '\.' and '-'/);
        }
    });

    it("take a stack name only as long as the IAM role's auto-name allows (64 with its prefix and suffix)", () => {
        expect(STACK_NAME_MAX_LENGTH).to.equal(44);
        const longest = "s".repeat(44);
        expect(parameterPath(longest)).to.equal(`/vpn-gateway/${longest}`);
        // vpn-gateway-<stack>-<7 random characters>: the role name Pulumi gives the gateway's role
        expect(`vpn-gateway-${longest}-abcdefg`.length).to.equal(64);
        expect(() => parameterPath("s".repeat(45))).to.throw(ConfigError, /IAM role .*at most 44 characters \(this one has 45\)/);
    });

    it("the PSK in PATH/psk", () => {
        expect(pskParameter(PATH, "the-psk-0123456789")).to.deep.equal({ name: `${PATH}/psk`, type: "SecureString", value: "the-psk-0123456789" });
    });

    it("each user in the bucket of the first byte of its name's SHA-256, as compact JSON sorted by name, ip only for static users", () => {
        // sha256("alice") = 2bd806c9..., sha256("bob") = 81b637d8...
        expect(userBucket("alice")).to.equal("2b");
        expect(userBucket("bob")).to.equal("81");
        const users = [
            { name: "bob", password: "bob-s3cret-pass", ip: "192.168.42.5" },
            { name: "alice", password: "alice-Passw0rd!" },
        ];
        expect(usersParameters(PATH, users)).to.deep.equal([
            { name: `${PATH}/users/2b`, type: "SecureString", value: '{"format":1,"users":[{"name":"alice","password":"alice-Passw0rd!"}]}' },
            { name: `${PATH}/users/81`, type: "SecureString", value: '{"format":1,"users":[{"name":"bob","password":"bob-s3cret-pass","ip":"192.168.42.5"}]}' },
        ]);
        // many in one bucket: sorted by name
        const many = Array.from({ length: 3000 }, (_, i) => `n${i}`)
            .filter((n) => userBucket(n) === "00")
            .slice(0, 5);
        expect(many.length).to.equal(5);
        const [bucket] = usersParameters(
            PATH,
            [...many].reverse().map((name) => ({ name, password: "p" })),
        );
        expect(bucket.name).to.equal(`${PATH}/users/00`);
        expect(JSON.parse(bucket.value).users.map((u: VpnUser) => u.name)).to.deep.equal([...many].sort());
    });

    it("are the same whatever the order of the users", () => {
        const users = realistic(1000);
        const shuffled = [...users].sort((a, b) => userBucket(b.name + "x").localeCompare(userBucket(a.name + "x")) || (a.name < b.name ? 1 : -1));
        expect(usersParameters(PATH, shuffled)).to.deep.equal(usersParameters(PATH, users));
        expect(gatewayParameters({ parameterPath: PATH, psk: "p".repeat(32), users: shuffled })).to.deep.equal(
            gatewayParameters({ parameterPath: PATH, psk: "p".repeat(32), users }),
        );
    });

    for (const [label, users, maxParameters] of [
        ["100 realistic users", realistic(100), 256],
        ["1,000 realistic users", realistic(1000), 256],
        ["5,000 realistic users", realistic(5000), 256],
        ["100 users of the longest names and passwords", longest(100), 256],
        ["1,000 users of the longest names and passwords", longest(1000), 256],
        ["5,000 users of the longest names and passwords", longest(5000), 768],
    ] as Array<[string, VpnUser[], number]>) {
        it(`fit SSM's standard tier: ${label}`, () => {
            const parameters = usersParameters(PATH, users);
            expect(parameters.length).to.be.at.most(maxParameters);
            for (const p of parameters) {
                expect(p.value.length, p.name).to.be.at.most(PARAMETER_VALUE_LIMIT);
                expect(p.type).to.equal("SecureString");
                expect(p.name).to.match(/^\/vpn-gateway\/test\/users\/[0-9a-f]{2}(-[2-9]|-[1-9][0-9]+)?$/);
            }
            // every user exactly once, as configured
            expect(usersOf(parameters)).to.deep.equal([...users].sort((x, y) => (x.name < y.name ? -1 : 1)));
            // and the whole stack's, with the PSK and the program
            const all = gatewayParameters({ parameterPath: PATH, psk: "x".repeat(128), users });
            expect(all.length).to.equal(parameters.length + 1 + programParameters(PATH).length);
            for (const p of all) expect(p.value.length, p.name).to.be.within(1, PARAMETER_VALUE_LIMIT);
        });
    }

    it("split a full bucket in name order into PATH/users/bb, bb-2, ...", () => {
        const users = longest(5000);
        const parameters = usersParameters(PATH, users);
        const split = parameters.filter((p) => /-\d+$/.test(p.name));
        expect(split.length).to.be.greaterThan(0);
        for (const p of split) {
            const base = p.name.replace(/-\d+$/, "");
            const first = parameters.find((q) => q.name === base)!;
            // the first piece ends before the next one starts, by name
            const lastOfFirst = JSON.parse(first.value).users.slice(-1)[0].name;
            const firstOfNext = JSON.parse(p.value).users[0].name;
            expect(lastOfFirst < firstOfNext, p.name).to.equal(true);
            // greedy: the first piece could not have taken the next user
            expect(first.value.length + 1 + JSON.stringify(JSON.parse(p.value).users[0]).length, p.name).to.be.greaterThan(PARAMETER_VALUE_LIMIT);
        }
    });

    describe("one user's change rewrites one parameter (1,000 realistic users)", () => {
        const users = realistic(1000);
        const before = usersParameters(PATH, users);

        it("adding a user", () => {
            for (const name of ["newcomer", "zz.top", "a"]) {
                const after = usersParameters(PATH, [...users, { name, password: "a-new-password-1" }]);
                expect(changed(before, after), name).to.deep.equal([`${PATH}/users/${userBucket(name)}`]);
            }
        });

        it("removing a user", () => {
            for (const i of [0, 1, 500, 999]) {
                const after = usersParameters(
                    PATH,
                    users.filter((_, j) => j !== i),
                );
                const bucket = `${PATH}/users/${userBucket(users[i].name)}`;
                expect(changed(before, after), users[i].name).to.deep.equal([bucket]);
            }
        });

        it("changing a password or a static address", () => {
            for (const i of [3, 10, 777]) {
                const password = usersParameters(
                    PATH,
                    users.map((u, j) => (j === i ? { ...u, password: "Changed-password-9" } : u)),
                );
                expect(changed(before, password)).to.deep.equal([`${PATH}/users/${userBucket(users[i].name)}`]);
                const address = usersParameters(
                    PATH,
                    users.map((u, j) => (j === i ? { ...u, ip: "10.20.100.100" } : u)),
                );
                expect(changed(before, address)).to.deep.equal([`${PATH}/users/${userBucket(users[i].name)}`]);
            }
        });

        it("and nothing else of the stack: the PSK's and the program's parameters stay as they were", () => {
            const all = (u: VpnUser[]) => gatewayParameters({ parameterPath: PATH, psk: "the-psk-0123456789", users: u });
            expect(changed(all(users), all([...users, { name: "newcomer", password: "a-new-password-1" }]))).to.deep.equal([
                `${PATH}/users/${userBucket("newcomer")}`,
            ]);
        });
    });

    it("a bucket removed when its last user goes", () => {
        const users = [
            { name: "alice", password: "pw-1" },
            { name: "bob", password: "pw-2" },
        ];
        expect(usersParameters(PATH, users.slice(0, 1)).map((p) => p.name)).to.deep.equal([`${PATH}/users/2b`]);
    });
});
