import { expect } from "chai";
import { ConfigError, DEFAULTS, checkPoolAgainstVpc, parseSettings } from "../../components/config/settings";
import { rawConfig, settings } from "../helpers";

/** The problems a raw config is rejected with; fails the test when it is accepted. */
function problems(overrides: Record<string, unknown>): string[] {
    try {
        parseSettings(rawConfig(overrides));
    } catch (error) {
        expect(error).to.be.instanceOf(ConfigError);
        return (error as ConfigError).problems;
    }
    expect.fail(`accepted ${JSON.stringify(overrides)}`);
}

function rejects(overrides: Record<string, unknown>, key: string, words: RegExp) {
    const found = problems(overrides);
    expect(
        found.some((p) => p.startsWith(key) && words.test(p)),
        `${JSON.stringify(found)} should name ${key} and match ${words}`,
    ).to.equal(true);
    return found;
}

describe("settings", () => {
    it("accepts a minimal config and applies the defaults the Pulumi CLI would", () => {
        const s = settings({ users: [{ name: "alice", password: "pw-alice-1" }], psk: undefined });
        expect(s.psk).to.equal(undefined);
        expect(s.clientPool.cidr.text).to.equal(DEFAULTS.clientPool);
        expect(s.clientPool.gatewayAddress).to.equal("192.168.42.1");
        expect(s.clientPool.staticRange).to.deep.equal({ first: "192.168.42.2", last: "192.168.42.127" });
        expect(s.clientPool.dynamicRanges).to.deep.equal([{ first: "192.168.42.128", last: "192.168.42.254" }]);
        expect(s.dnsServers).to.deep.equal(["8.8.8.8", "8.8.4.4"]);
        expect(s.instanceType).to.equal("t3.micro");
        expect(s.os).to.equal("ubuntu-24.04");
        expect(s.allowedCidrs).to.deep.equal(["0.0.0.0/0"]);
        expect(s.adminCidr).to.equal(undefined);
        expect(s.tags).to.deep.equal({});
    });

    it("splits the pool: static addresses in the lower half, xl2tpd's range the upper half, whoever the users are", () => {
        const s = settings();
        expect(s.users[1].ip).to.equal("192.168.42.5");
        expect(s.clientPool.dynamicRanges).to.deep.equal([{ first: "192.168.42.128", last: "192.168.42.254" }]);
        // the users do not move xl2tpd's range: it is the pool's alone
        const other = settings({
            users: [
                { name: "z", password: "p", ip: "192.168.42.127" },
                { name: "y", password: "q" },
            ],
        });
        expect(other.clientPool).to.deep.equal(s.clientPool);
        const pools: Array<[string, string, string, string, string]> = [
            ["10.99.0.0/29", "10.99.0.2", "10.99.0.3", "10.99.0.4", "10.99.0.6"],
            ["10.8.0.0/24", "10.8.0.2", "10.8.0.127", "10.8.0.128", "10.8.0.254"],
            ["10.20.0.0/16", "10.20.0.2", "10.20.127.255", "10.20.128.0", "10.20.255.254"],
        ];
        for (const [pool, sFirst, sLast, dFirst, dLast] of pools) {
            const p = settings({ clientPool: pool, users: [{ name: "a", password: "p" }] }).clientPool;
            expect(p.staticRange, pool).to.deep.equal({ first: sFirst, last: sLast });
            expect(p.dynamicRanges, pool).to.deep.equal([{ first: dFirst, last: dLast }]);
        }
    });

    describe("PSK", () => {
        it("rejects one that is too short", () => rejects({ psk: "short" }, "vpn-gateway:psk", /5 characters; allowed: 12 to 128/));
        it("rejects one that is too long", () => rejects({ psk: "x".repeat(129) }, "vpn-gateway:psk", /129 characters/));
        for (const [label, psk] of [
            ["a double quote", 'abc"defghijklmn'],
            ["a single quote", "abc'defghijklmn"],
            ["a backslash", "abc\\defghijklmn"],
            ["a newline", "abcdefg\nhijklmn"],
            ["a space", "abcdefg hijklmn"],
            ["a control character", "abcdefg\u0007hijklmn"],
            ["non-ASCII", "abcdefgé-hijklmn"],
        ]) {
            it(`rejects ${label}`, () => rejects({ psk }, "vpn-gateway:psk", /contains .*allowed: printable ASCII/));
        }
        it("never repeats the PSK in its message", () => {
            const found = problems({ psk: 'secret"value-123' });
            expect(found.join("\n")).not.to.contain("secret");
        });
    });

    describe("users", () => {
        it("requires at least one", () => {
            rejects({ users: undefined }, "vpn-gateway:users", /no users/);
            rejects({ users: [] }, "vpn-gateway:users", /at least one user/);
        });
        it("rejects a structure that is not a list of records", () => {
            rejects({ users: "alice" }, "vpn-gateway:users", /expected a list/);
            rejects({ users: [42] }, "vpn-gateway:users[0]", /expected \{name, password\?, ip\?, methods\?, revoked\?, reissue\?, devices\?\}/);
            rejects({ users: [{ name: "a", password: "p", role: "x" }] }, "vpn-gateway:users[0].role", /unknown field/);
        });
        for (const [label, name] of [
            ["whitespace", "al ice"],
            ["a tab", "al\tice"],
            ["a double quote", 'al"ice'],
            ["a single quote", "al'ice"],
            ["'#'", "al#ice"],
            ["'*'", "*"],
            ["a newline", "alice\nmallory"],
            ["a backslash", "al\\ice"],
            ["non-ASCII", "alïce"],
        ]) {
            it(`rejects a name with ${label}`, () => rejects({ users: [{ name, password: "pw-123456" }] }, "vpn-gateway:users[0].name", /contains/));
            it(`rejects a password with ${label}`, () =>
                rejects({ users: [{ name: "alice", password: `pw${name}pw` }] }, "vpn-gateway:users[0].password", /contains/));
        }
        it("rejects empty names and passwords", () => {
            rejects({ users: [{ name: "", password: "pw-123456" }] }, "vpn-gateway:users[0].name", /required/);
            rejects({ users: [{ name: "alice", password: "" }] }, "vpn-gateway:users[0].password", /required/);
            rejects({ users: [{ name: "alice" }] }, "vpn-gateway:users[0].password", /required/);
        });
        it("explains numbers and booleans that pulumi config set --path stored", () => {
            rejects(
                { users: [{ name: "alice", password: 12345678 }] },
                "vpn-gateway:users[0].password",
                /is a number, not a string; set it with --type string/,
            );
            rejects({ users: [{ name: true, password: "pw" }] }, "vpn-gateway:users[0].name", /is a boolean/);
        });
        it("rejects a password pppd would read as a file name", () =>
            rejects({ users: [{ name: "alice", password: "@/etc/shadow" }] }, "vpn-gateway:users[0].password", /starts with '@'/));
        it("never repeats a password in its message", () => {
            const found = problems({ users: [{ name: "alice", password: "hunter2 secret" }] });
            expect(found.join("\n")).not.to.contain("hunter2");
        });
        it("rejects duplicate names", () =>
            rejects(
                {
                    users: [
                        { name: "alice", password: "pw-1" },
                        { name: "alice", password: "pw-2" },
                    ],
                },
                "vpn-gateway:users[1].name",
                /also users\[0\]; names must be unique/,
            ));
        it("rejects a static ip outside the pool", () =>
            rejects(
                { users: [{ name: "a", password: "p", ip: "10.0.0.5" }] },
                "vpn-gateway:users[0].ip",
                /not a host address of the client pool 192.168.42.0\/24/,
            ));
        it("rejects a static ip on the gateway's own address", () =>
            rejects(
                { users: [{ name: "a", password: "p", ip: "192.168.42.1" }] },
                "vpn-gateway:users[0].ip",
                /gateway's own PPP address; allowed: 192\.168\.42\.2 to 192\.168\.42\.127/,
            ));
        it("rejects a static ip in xl2tpd's dynamic range (the pool's upper half), naming the allowed range", () => {
            const found = rejects({ users: [{ name: "a", password: "p", ip: "192.168.42.128" }] }, "vpn-gateway:users[0].ip", /in xl2tpd's dynamic range/);
            expect(found).to.deep.equal([
                "vpn-gateway:users[0].ip: 192.168.42.128 is in xl2tpd's dynamic range; allowed: 192.168.42.2 to 192.168.42.127 " +
                    "(the lower half of vpn-gateway:clientPool 192.168.42.0/24 after the gateway's 192.168.42.1; xl2tpd hands out 192.168.42.128 to 192.168.42.254)",
            ]);
            rejects({ users: [{ name: "a", password: "p", ip: "192.168.42.254" }] }, "vpn-gateway:users[0].ip", /dynamic range/);
            rejects(
                { clientPool: "10.1.0.0/29", users: [{ name: "a", password: "p", ip: "10.1.0.4" }] },
                "vpn-gateway:users[0].ip",
                /allowed: 10\.1\.0\.2 to 10\.1\.0\.3 /,
            );
            expect(settings({ users: [{ name: "a", password: "p", ip: "192.168.42.127" }] }).users[0].ip).to.equal("192.168.42.127");
            expect(settings({ users: [{ name: "a", password: "p", ip: "192.168.42.2" }] }).users[0].ip).to.equal("192.168.42.2");
        });
        it("rejects the pool's network and broadcast addresses", () => {
            rejects({ users: [{ name: "a", password: "p", ip: "192.168.42.0" }] }, "vpn-gateway:users[0].ip", /not a host address/);
            rejects({ users: [{ name: "a", password: "p", ip: "192.168.42.255" }] }, "vpn-gateway:users[0].ip", /not a host address/);
        });
        it("rejects a malformed static ip", () =>
            rejects({ users: [{ name: "a", password: "p", ip: "192.168.42.300" }] }, "vpn-gateway:users[0].ip", /not an IPv4 address/));
        it("rejects two users on one static ip", () =>
            rejects(
                {
                    users: [
                        { name: "a", password: "p", ip: "192.168.42.9" },
                        { name: "b", password: "p", ip: "192.168.42.9" },
                    ],
                },
                "vpn-gateway:users[1].ip",
                /static addresses must be unique/,
            ));
        it("reports every problem at once", () => {
            const found = problems({ psk: "x", users: [{ name: "a b", password: "" }] });
            expect(found.length).to.be.at.least(3);
        });
    });

    describe("methods, revocation and the IKEv2 pool", () => {
        it("gives every user both methods by default: an L2TP login and an IKEv2 certificate", () => {
            const s = settings();
            expect(s.users.map((u) => u.name)).to.deep.equal(["alice", "bob"]);
            expect(s.ikev2.users).to.deep.equal([
                { name: "alice", reissue: 0, revoked: false },
                { name: "bob", reissue: 0, revoked: false },
            ]);
            expect(s.ikev2.pool.text).to.equal(DEFAULTS.ikev2Pool);
            expect(s.ikev2.poolRange).to.deep.equal({ first: "192.168.43.2", last: "192.168.43.254" });
        });
        it("takes an IKEv2-only user without a password, and an L2TP-only user out of IKEv2", () => {
            const s = settings({
                users: [
                    { name: "phone", methods: ["ikev2"] },
                    { name: "laptop", password: "laptop-pass-1", methods: ["l2tp"] },
                ],
            });
            expect(s.users.map((u) => u.name)).to.deep.equal(["laptop"]);
            expect(s.ikev2.users.map((u) => u.name)).to.deep.equal(["phone"]);
        });
        it("keeps a revoked user's certificate on the CRL and takes away their L2TP login", () => {
            const s = settings({
                users: [
                    { name: "alice", password: "alice-Passw0rd!" },
                    { name: "bob", password: "bob-pass-1234", revoked: true, reissue: 2 },
                ],
            });
            expect(s.users.map((u) => u.name)).to.deep.equal(["alice"]);
            expect(s.ikev2.users).to.deep.include({ name: "bob", reissue: 2, revoked: true });
        });
        it("refuses a config where every user is revoked", () => {
            rejects({ users: [{ name: "alice", password: "alice-Passw0rd!", revoked: true }] }, "vpn-gateway:users", /every user is revoked/);
        });
        it("refuses unknown methods, repeats, an empty list, and a static address without L2TP", () => {
            rejects(
                { users: [{ name: "a", password: "pw-a-12345", methods: ["pptp"] }] },
                "vpn-gateway:users[0].methods[0]",
                /not a method; allowed: l2tp, ikev2/,
            );
            rejects({ users: [{ name: "a", password: "pw-a-12345", methods: ["l2tp", "l2tp"] }] }, "vpn-gateway:users[0].methods[1]", /twice/);
            rejects({ users: [{ name: "a", password: "pw-a-12345", methods: [] }] }, "vpn-gateway:users[0].methods", /non-empty list/);
            rejects({ users: [{ name: "a", methods: ["ikev2"], ip: "192.168.42.5" }] }, "vpn-gateway:users[0].ip", /no l2tp method/);
            rejects({ users: [{ name: "a", methods: ["l2tp"] }] }, "vpn-gateway:users[0].password", /required for the l2tp method/);
        });
        it("refuses a reissue that is not a whole number, and a revoked that is not a boolean", () => {
            rejects({ users: [{ name: "a", password: "pw-a-12345", reissue: -1 }] }, "vpn-gateway:users[0].reissue", /whole number/);
            rejects({ users: [{ name: "a", password: "pw-a-12345", reissue: 1.5 }] }, "vpn-gateway:users[0].reissue", /whole number/);
            rejects({ users: [{ name: "a", password: "pw-a-12345", revoked: "yes" }] }, "vpn-gateway:users[0].revoked", /true or false/);
            const s = settings({
                users: [
                    { name: "a", password: "pw-a-12345", reissue: "3", revoked: "true" },
                    { name: "b", password: "pw-b-12345" },
                ],
            });
            expect(s.ikev2.users[0]).to.deep.equal({ name: "a", reissue: 3, revoked: true });
        });
        it("gives a user with devices a certificate per device, named NAME.DEVICE, revoked together with the user", () => {
            const s = settings({
                users: [
                    { name: "alice", password: "alice-Passw0rd!", devices: ["phone", "laptop"], reissue: 2 },
                    { name: "bob", methods: ["ikev2"], devices: ["tab_1"], revoked: true },
                ],
            });
            expect(s.users.map((u) => u.name)).to.deep.equal(["alice"]);
            expect(s.ikev2.users).to.deep.equal([
                { name: "alice.phone", user: "alice", device: "phone", reissue: 2, revoked: false },
                { name: "alice.laptop", user: "alice", device: "laptop", reissue: 2, revoked: false },
                { name: "bob.tab_1", user: "bob", device: "tab_1", reissue: 0, revoked: true },
            ]);
        });
        it("refuses bad devices: not a list, an empty list, a bad or repeated name, devices without ikev2, a name taken twice, too long", () => {
            rejects({ users: [{ name: "a", password: "pw-a-12345", devices: "phone" }] }, "vpn-gateway:users[0].devices", /non-empty list of device names/);
            rejects({ users: [{ name: "a", password: "pw-a-12345", devices: [] }] }, "vpn-gateway:users[0].devices", /non-empty list of device names/);
            rejects(
                { users: [{ name: "a", password: "pw-a-12345", devices: ["my phone"] }] },
                "vpn-gateway:users[0].devices[0]",
                /not a device name; allowed: letters, digits/,
            );
            rejects({ users: [{ name: "a", password: "pw-a-12345", devices: [".x"] }] }, "vpn-gateway:users[0].devices[0]", /not a device name/);
            rejects({ users: [{ name: "a", password: "pw-a-12345", devices: ["x".repeat(33)] }] }, "vpn-gateway:users[0].devices[0]", /at most 32/);
            rejects({ users: [{ name: "a", password: "pw-a-12345", devices: ["p", "p"] }] }, "vpn-gateway:users[0].devices[1]", /twice/);
            rejects({ users: [{ name: "a", password: "pw-a-12345", methods: ["l2tp"], devices: ["p"] }] }, "vpn-gateway:users[0].devices", /no ikev2 method/);
            rejects(
                {
                    users: [
                        { name: "alice", password: "pw-a-12345", devices: ["phone"] },
                        { name: "alice.phone", password: "pw-b-12345" },
                    ],
                },
                "vpn-gateway:users",
                /"alice.phone" is both alice's device "phone" and user "alice.phone"/,
            );
            rejects({ users: [{ name: "n".repeat(60), password: "pw-a-12345", devices: ["phone"] }] }, "vpn-gateway:users", /longer than 64 characters/);
        });
        it("keeps a name that cannot name a profile's files out of IKEv2 unless asked, and then refuses it", () => {
            const s = settings({ users: [{ name: "team/alice", password: "pw-alice-1" }] });
            expect(s.users.map((u) => u.name)).to.deep.equal(["team/alice"]);
            expect(s.ikev2.users).to.deep.equal([]);
            rejects({ users: [{ name: "team/alice", password: "pw-alice-1", methods: ["ikev2"] }] }, "vpn-gateway:users[0].name", /IKEv2 certificate's files/);
            rejects({ users: [{ name: ".hidden", methods: ["ikev2"] }] }, "vpn-gateway:users[0].name", /leading '\.'/);
        });
        it("refuses an IKEv2 pool that overlaps the L2TP pool, is public, or is out of size", () => {
            rejects({ ikev2Pool: "192.168.42.128/25" }, "vpn-gateway:ikev2Pool", /overlaps vpn-gateway:clientPool/);
            rejects({ ikev2Pool: "8.8.8.0/24" }, "vpn-gateway:ikev2Pool", /not private/);
            rejects({ ikev2Pool: "10.0.0.0/8" }, "vpn-gateway:ikev2Pool", /allowed: \/16 to \/29/);
            expect(settings({ ikev2Pool: "10.99.0.0/24" }).ikev2.poolRange).to.deep.equal({ first: "10.99.0.2", last: "10.99.0.254" });
        });
        it("refuses an IKEv2 pool inside the VPC, once the VPC is known", () => {
            const s = settings({ ikev2Pool: "172.31.200.0/24" });
            expect(() => checkPoolAgainstVpc(s.clientPool, ["172.31.0.0/16"], s.ikev2.pool)).to.throw(
                ConfigError,
                /vpn-gateway:ikev2Pool: 172.31.200.0\/24 overlaps the VPC's 172.31.0.0\/16/,
            );
        });
    });

    describe("client pool", () => {
        it("rejects a malformed CIDR", () => rejects({ clientPool: "192.168.42.0/33" }, "vpn-gateway:clientPool", /not an IPv4 CIDR/));
        it("rejects host bits", () => rejects({ clientPool: "192.168.42.1/24" }, "vpn-gateway:clientPool", /host bits set/));
        it("rejects a public range", () =>
            rejects({ clientPool: "8.8.8.0/24", users: [{ name: "a", password: "p" }] }, "vpn-gateway:clientPool", /not private/));
        it("rejects a pool too large or too small", () => {
            rejects({ clientPool: "10.0.0.0/8", users: [{ name: "a", password: "p" }] }, "vpn-gateway:clientPool", /allowed: \/16 to \/29/);
            rejects({ clientPool: "10.0.0.0/30", users: [{ name: "a", password: "p" }] }, "vpn-gateway:clientPool", /allowed: \/16 to \/29/);
        });
        it("keeps a dynamic range in the smallest pool, whatever the static users", () => {
            const users = [2, 3].map((n) => ({ name: `u${n}`, password: "p", ip: `10.1.0.${n}` }));
            const s = settings({ clientPool: "10.1.0.0/29", users: [...users, { name: "dyn", password: "p" }] });
            expect(s.clientPool.dynamicRanges).to.deep.equal([{ first: "10.1.0.4", last: "10.1.0.6" }]);
        });
        it("rejects a pool overlapping the VPC", () => {
            const s = settings({ clientPool: "172.31.200.0/24", users: [{ name: "a", password: "p" }] });
            expect(() => checkPoolAgainstVpc(s.clientPool, ["172.31.0.0/16"])).to.throw(
                ConfigError,
                /vpn-gateway:clientPool: 172.31.200.0\/24 overlaps the VPC's 172.31.0.0\/16/,
            );
            expect(() => checkPoolAgainstVpc(s.clientPool, ["10.0.0.0/16"])).not.to.throw();
        });
    });

    describe("other settings", () => {
        it("rejects unknown keys (typos)", () => rejects({ user: "x" }, "vpn-gateway:user", /unknown setting; known settings: psk, users/));
        it("rejects malformed allowed CIDRs", () => {
            rejects({ allowedCidrs: ["203.0.113.0/24", "nope"] }, "vpn-gateway:allowedCidrs[1]", /not an IPv4 CIDR/);
            rejects({ allowedCidrs: [] }, "vpn-gateway:allowedCidrs", /non-empty list/);
        });
        it("rejects DNS servers that are not addresses, or too many", () => {
            rejects({ dnsServers: ["dns.google"] }, "vpn-gateway:dnsServers[0]", /not an IPv4 address/);
            rejects({ dnsServers: ["1.1.1.1", "1.0.0.1", "9.9.9.9"] }, "vpn-gateway:dnsServers", /1 to 2/);
        });
        it("rejects a health check timeout that is not whole seconds in range", () => {
            rejects({ healthCheckTimeout: "-1" }, "vpn-gateway:healthCheckTimeout", /whole seconds from 0/);
            rejects({ healthCheckTimeout: "99999" }, "vpn-gateway:healthCheckTimeout", /to 3600/);
            expect(settings({ healthCheckTimeout: "0" }).healthCheckTimeout).to.equal(0);
        });
        it("takes allowClientToClient as a boolean", () => {
            rejects({ allowClientToClient: "yes" }, "vpn-gateway:allowClientToClient", /expected true or false/);
            expect(settings({ allowClientToClient: "true" }).allowClientToClient).to.equal(true);
            expect(settings().allowClientToClient).to.equal(false);
        });
        it("rejects an unknown OS, listing the four allowed", () => {
            rejects({ os: "windows" }, "vpn-gateway:os", /allowed: ubuntu-24.04, ubuntu-26.04, debian-12, debian-13$/);
            // An older release is refused too, by name, not mistaken for one of its successors.
            const found = rejects({ os: "ubuntu-22.04" }, "vpn-gateway:os", /"ubuntu-22.04" is not supported/);
            expect(found).to.deep.equal([`vpn-gateway:os: "ubuntu-22.04" is not supported; allowed: ubuntu-24.04, ubuntu-26.04, debian-12, debian-13`]);
        });
        for (const os of ["ubuntu-24.04", "ubuntu-26.04", "debian-12", "debian-13"]) {
            it(`accepts ${os}`, () => expect(settings({ os }).os).to.equal(os));
        }
        it("rejects malformed ids and instance types", () => {
            rejects({ amiId: "ubuntu" }, "vpn-gateway:amiId", /AMI id/);
            rejects({ vpcId: "default", subnetId: "subnet-0123456789abcdef0" }, "vpn-gateway:vpcId", /VPC id/);
            rejects({ subnetId: "sn-1" }, "vpn-gateway:subnetId", /subnet id/);
            rejects({ instanceType: "T3 micro" }, "vpn-gateway:instanceType", /instance type/);
        });
        it("needs a subnet when a VPC is named", () => rejects({ vpcId: "vpc-0123456789abcdef0" }, "vpn-gateway:subnetId", /required when vpn-gateway:vpcId/));
        it("opens SSH only with a key and a valid admin CIDR", () => {
            rejects({ adminCidr: "198.51.100.7/32" }, "vpn-gateway:adminCidr", /needs vpn-gateway:sshKeyName/);
            rejects({ adminCidr: "198.51.100.7", sshKeyName: "me" }, "vpn-gateway:adminCidr", /not an IPv4 CIDR/);
            expect(settings({ adminCidr: "198.51.100.7/32", sshKeyName: "me" }).adminCidr).to.equal("198.51.100.7/32");
        });
        it("rejects tags AWS would refuse", () => {
            rejects({ tags: ["a"] }, "vpn-gateway:tags", /map/);
            rejects({ tags: { "aws:x": "y" } }, "vpn-gateway:tags", /aws:/);
            rejects({ tags: { team: 5 } }, "vpn-gateway:tags.team", /string/);
            expect(settings({ tags: { team: "net" } }).tags).to.deep.equal({ team: "net" });
        });
    });
});
