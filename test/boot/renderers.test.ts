import { expect } from "chai";
import { BootComponent, BootFile } from "../../components/boot/bootFile";
import { firewall } from "../../components/boot/firewall";
import { ESP_PROPOSALS, IKE_PROPOSALS, PUBLIC_IP_FILE, ipsec } from "../../components/boot/ipsec";
import { KERNEL_MODULES, KERNEL_TOOL, kernel } from "../../components/boot/kernel";
import { l2tp } from "../../components/boot/l2tp";
import { ppp } from "../../components/boot/ppp";
import { SYNC_CONFIG_FILE, SYNC_INSTALLER, SYNC_PROGRAM, programParameters, sync, syncProgram } from "../../components/boot/sync";
import { sysctl } from "../../components/boot/sysctl";
import { MAINTENANCE_WINDOW, updates } from "../../components/boot/updates";
import { createHash } from "crypto";
import * as fs from "fs";
import * as zlib from "zlib";
import { assetPath } from "../../components/assets";
import { NAME_MAX_LENGTH, PASSWORD_MAX_LENGTH, PSK_MAX_LENGTH, PSK_MIN_LENGTH } from "../../components/config/settings";
import { PSK, ipsecInput, settings } from "../helpers";
import { snapshotsBeside } from "../snapshot";

const matchSnapshot = snapshotsBeside(__dirname);

function file(component: BootComponent, path: string): BootFile {
    const found = component.files.find((f) => f.path === path);
    if (!found) expect.fail(`no ${path} among ${component.files.map((f) => f.path).join(", ")}`);
    return found;
}

/** The significant lines of a config file: no comments, no blank lines, whitespace trimmed. */
function lines(content: string, comment = "#"): string[] {
    return content
        .split("\n")
        .map((l) => l.trim())
        .filter((l) => l !== "" && !l.startsWith(comment));
}

function snapshot(name: string, component: BootComponent) {
    const text = component.files.map((f) => `=== ${f.path} (${f.owner} ${f.permissions})\n${f.content}`).join("\n");
    const enableOnly = component.enableOnly ? `=== enabled for later boots: ${component.enableOnly.join(" ")}\n` : "";
    matchSnapshot(
        `${name}.txt`,
        `${text}\n=== packages: ${component.packages.join(" ")}\n=== commands: ${JSON.stringify(component.commands)}\n=== services: ${component.services.join(" ")}\n${enableOnly}`,
    );
}

describe("first-boot components", () => {
    describe("ipsec", () => {
        const component = ipsec(ipsecInput());
        const conf = lines(file(component, "/etc/ipsec.conf").content);

        it("matches its snapshot", () => snapshot("ipsec", component));
        it("accepts IKEv1 explicitly and allows shared client identities", () => {
            expect(conf).to.include("ikev1-policy=accept");
            expect(conf).to.include("uniqueids=no");
            expect(conf).to.include(
                "virtual-private=%v4:10.0.0.0/8,%v4:172.16.0.0/12,%v4:192.168.0.0/16,%v4:100.64.0.0/10,%v4:!192.168.42.0/24,%v4:!192.168.43.0/24",
            );
        });
        it("answers L2TP in IKEv1 PSK transport mode with NAT-T and DPD", () => {
            for (const line of [
                "conn l2tp-psk",
                "auto=add",
                "authby=secret",
                "type=transport",
                "ikev2=no",
                "encapsulation=yes",
                "leftprotoport=17/1701",
                "rightprotoport=17/%any",
                "left=%defaultroute",
                "right=%any",
                "dpddelay=30",
                "dpdtimeout=120",
                "also=vpn-gateway-identity",
                "include /etc/ipsec.d/vpn-gateway-identity.conf",
            ]) {
                expect(conf, line).to.include(line);
            }
        });
        it("answers IKEv2 with certificates in tunnel mode from its own pool, DNS pushed, fragmentation on", () => {
            const ikev2 = conf.slice(conf.indexOf("conn ikev2-cert"));
            for (const line of [
                "leftcert=vpn-gateway-server",
                "leftsendcert=always",
                "leftsubnet=0.0.0.0/0",
                "rightid=%fromcert",
                "rightca=%same",
                "rightaddresspool=192.168.43.2-192.168.43.254",
                'modecfgdns="8.8.8.8 8.8.4.4"',
                "fragmentation=yes",
                "mobike=no",
                "pfs=no",
                "also=vpn-gateway-identity",
            ]) {
                expect(ikev2, line).to.include(line);
            }
            // tunnel mode and IKEv2 are both defaults: neither IKEv1 nor transport may leak into it
            expect(ikev2.filter((l) => /^(type|ikev2|keyexchange|authby|dpdtimeout)=/.test(l))).to.deep.equal([]);
            expect(conf.indexOf("conn ikev2-cert")).to.be.greaterThan(conf.indexOf("conn l2tp-psk"));
        });
        it("offers IKEv2 groups every platform sends and no weak or ECP-only choice for Android", () => {
            const ike = conf
                .slice(conf.indexOf("conn ikev2-cert"))
                .find((l) => l.startsWith("ike="))!
                .slice(4)
                .split(",");
            const groups = new Set(ike.map((p) => p.split(";")[1]));
            expect([...groups].sort()).to.deep.equal(["dh31", "modp2048", "modp3072", "modp4096"]);
            // Windows after the profile's PowerShell (GCM-AES-128, SHA256, group 14), Apple's profile (AES-256-GCM, group 14)
            expect(ike).to.include.members(["aes_gcm128-sha2_256;modp2048", "aes_gcm256-sha2_256;modp2048"]);
            expect(ike.join(",")).not.to.match(/modp1024|modp1536|3des|md5/);
        });
        it("keeps both pools out of virtual-private, other pools' settings follow", () => {
            const other = lines(
                file(
                    ipsec(ipsecInput({ clientPool: "10.10.0.0/24", ikev2Pool: "10.20.0.0/24", users: [{ name: "a", password: "pw-a-12345" }] })),
                    "/etc/ipsec.conf",
                ).content,
            );
            expect(other.find((l) => l.startsWith("virtual-private="))).to.match(/%v4:!10\.10\.0\.0\/24,%v4:!10\.20\.0\.0\/24$/);
            expect(other).to.include("rightaddresspool=10.20.0.2-10.20.0.254");
        });
        it("uses only keys that Libreswan 4.x and 5.x both take without a warning", () => {
            // phase2alg= is esp='s old alias; 5.x ignores dpdaction= with a warning and drops keyingtries=.
            for (const key of ["phase2alg", "dpdaction", "keyingtries"]) {
                expect(
                    conf.filter((l) => l.startsWith(`${key}=`)),
                    key,
                ).to.deep.equal([]);
            }
            // 5.x expands also= where it stands and keeps the first definition: it comes last.
            expect(conf[conf.length - 1]).to.equal("also=vpn-gateway-identity");
            expect(conf.indexOf("conn l2tp-psk")).to.be.greaterThan(conf.indexOf("config setup"));
        });
        it("says IKEv1-only in the words of each os's Libreswan (4.x: ikev2=no, 5.x: keyexchange=ikev1)", () => {
            const confOf = (os: string) => lines(file(ipsec(ipsecInput({ os })), "/etc/ipsec.conf").content);
            for (const os of ["ubuntu-24.04", "debian-12"]) {
                expect(confOf(os), os).to.include("ikev2=no");
                expect(
                    confOf(os).filter((l) => l.startsWith("keyexchange")),
                    os,
                ).to.deep.equal([]);
            }
            for (const os of ["ubuntu-26.04", "debian-13"]) {
                expect(confOf(os), os).to.include("keyexchange=ikev1");
                expect(
                    confOf(os).filter((l) => l.startsWith("ikev2")),
                    os,
                ).to.deep.equal([]);
            }
        });
        it("offers only current ciphers: AES with SHA2/SHA1 over MODP2048, AES-GCM first", () => {
            expect(conf).to.include(`ike=${IKE_PROPOSALS}`);
            expect(conf).to.include(`esp=${ESP_PROPOSALS}`);
            for (const proposal of IKE_PROPOSALS.split(",")) expect(proposal).to.match(/^aes(128|256)-sha(1|2_256);modp2048$/);
            expect(ESP_PROPOSALS.split(",")[0]).to.equal("aes_gcm-null");
            expect(`${IKE_PROPOSALS},${ESP_PROPOSALS}`).not.to.match(/3des|modp1024|md5/);
        });
        it("writes no PSK: vpn-gateway-sync writes /etc/ipsec.secrets from the PSK's parameter", () => {
            expect(component.files.map((f) => f.path)).not.to.include("/etc/ipsec.secrets");
            expect(JSON.stringify(component)).not.to.contain(PSK);
        });
        it("hands the Elastic IP to the gateway when the program knows it", () => {
            expect(file(component, PUBLIC_IP_FILE).content).to.equal("203.0.113.10\n");
            expect(component.services).to.deep.equal(["vpn-gateway-identity.service", "ipsec.service"]);
        });
        it("falls back to IMDSv2 at boot when it does not", () => {
            const withoutIp = ipsec(ipsecInput({}, null));
            expect(withoutIp.files.map((f) => f.path)).not.to.include(PUBLIC_IP_FILE);
            const script = file(withoutIp, "/usr/local/sbin/vpn-gateway-identity").content;
            expect(script).to.contain(`-X PUT -H "X-aws-ec2-metadata-token-ttl-seconds: 300" "$imds/api/token"`);
            expect(script).to.contain(`-H "X-aws-ec2-metadata-token: $token" "$imds/meta-data/public-ipv4"`);
            expect(script).to.contain("leftid=%s");
            expect(file(withoutIp, "/usr/local/sbin/vpn-gateway-identity").permissions).to.equal("0755");
        });
        it("refuses a public IP that is not an address", () => {
            expect(() => ipsec(ipsecInput({}, "203.0.113.10\nleftid=x"))).to.throw(/not an IPv4 address/);
        });
    });

    describe("l2tp", () => {
        const component = l2tp(settings());
        const conf = lines(file(component, "/etc/xl2tpd/xl2tpd.conf").content, ";");
        it("matches its snapshot", () => snapshot("l2tp", component));
        it("is an LNS that requires CHAP and refuses PAP", () => {
            for (const line of [
                "[lns default]",
                "require chap = yes",
                "refuse pap = yes",
                "require authentication = yes",
                "length bit = yes",
                "pass peer = yes",
                "name = l2tpd",
                "pppoptfile = /etc/ppp/options.xl2tpd",
            ]) {
                expect(conf, line).to.include(line);
            }
        });
        it("hands out the pool's upper half, whoever the users are (static addresses are the lower half's)", () => {
            expect(conf).to.include("local ip = 192.168.42.1");
            expect(conf.filter((l) => l.startsWith("ip range"))).to.deep.equal(["ip range = 192.168.42.128-192.168.42.254"]);
            const others = l2tp(settings({ users: [{ name: "z", password: "p", ip: "192.168.42.100" }], psk: "another-psk-0123" }));
            expect(others).to.deep.equal(component);
        });
        it("follows a custom pool", () => {
            const custom = lines(
                file(l2tp(settings({ clientPool: "10.99.0.0/28", users: [{ name: "a", password: "p" }] })), "/etc/xl2tpd/xl2tpd.conf").content,
                ";",
            );
            expect(custom).to.include("local ip = 10.99.0.1");
            expect(custom.filter((l) => l.startsWith("ip range"))).to.deep.equal(["ip range = 10.99.0.8-10.99.0.14"]);
        });
    });

    describe("ppp", () => {
        const component = ppp(settings());
        const options = lines(file(component, "/etc/ppp/options.xl2tpd").content);
        it("matches its snapshot", () => snapshot("ppp", component));
        it("accepts MS-CHAPv2, refuses PAP, keeps MTU/MRU at 1280, pushes DNS and echoes LCP", () => {
            for (const line of [
                "require-mschap-v2",
                "refuse-pap",
                "auth",
                "mtu 1280",
                "mru 1280",
                "proxyarp",
                "lcp-echo-interval 30",
                "lcp-echo-failure 4",
                "ms-dns 8.8.8.8",
                "ms-dns 8.8.4.4",
            ]) {
                expect(options, line).to.include(line);
            }
        });
        it("pushes the configured DNS servers", () => {
            const custom = lines(file(ppp(settings({ dnsServers: ["1.1.1.1"] })), "/etc/ppp/options.xl2tpd").content);
            expect(custom.filter((l) => l.startsWith("ms-dns"))).to.deep.equal(["ms-dns 1.1.1.1"]);
        });
        it("writes no users: vpn-gateway-sync writes /etc/ppp/chap-secrets from the users' parameters", () => {
            expect(component.files.map((f) => f.path)).not.to.include("/etc/ppp/chap-secrets");
            expect(JSON.stringify(component)).not.to.contain("alice");
        });
        it("records each session (pppd's PID -> user) on ip-up and forgets it on ip-down, for the sync to end a removed user's", () => {
            for (const dir of ["ip-up.d", "ip-down.d"]) {
                const hook = file(component, `/etc/ppp/${dir}/vpn-gateway-session`);
                expect(hook.permissions).to.equal("0755");
                expect(hook.source).to.equal("ppp/vpn-gateway-session");
                expect(hook.template).to.equal(undefined);
                expect(hook.content).to.contain("dir=/run/vpn-gateway/sessions");
            }
        });
    });

    describe("sync", () => {
        const input = { region: "eu-west-1", parameterPath: "/vpn-gateway/test", clientPool: settings().clientPool };
        const component = sync(input);
        it("matches its snapshot (but the program's digest, which every release changes)", () =>
            snapshot("sync", {
                ...component,
                commands: component.commands.map((c) => c.map((a) => (a === syncProgram().sha256 ? "<sha256 of the program>" : a))),
            }));
        it("writes sync.json: the region, the stack's path, the LNS's name, the pool, the static range and the limits, as vpn-gateway-sync reads them", () => {
            const config = file(component, SYNC_CONFIG_FILE);
            expect(config.permissions).to.equal("0644");
            expect(JSON.parse(config.content)).to.deep.equal({
                region: "eu-west-1",
                path: "/vpn-gateway/test",
                serverName: "l2tpd",
                clientPool: "192.168.42.0/24",
                gatewayAddress: "192.168.42.1",
                staticRange: { first: "192.168.42.2", last: "192.168.42.127" },
                limits: {
                    nameMaxLength: NAME_MAX_LENGTH,
                    passwordMaxLength: PASSWORD_MAX_LENGTH,
                    pskMinLength: PSK_MIN_LENGTH,
                    pskMaxLength: PSK_MAX_LENGTH,
                    secretForbidden: [
                        { characters: " ", problem: "whitespace" },
                        { characters: `"'`, problem: "quote characters" },
                        { characters: "\\", problem: "backslash" },
                    ],
                    chapWordForbidden: [
                        { characters: "#", problem: "'#' (starts a comment in chap-secrets)" },
                        { characters: "*", problem: "'*' (a wildcard in chap-secrets)" },
                    ],
                    passwordFirstForbidden: {
                        characters: "@",
                        problem: "starts with '@', which pppd reads as a file name; allowed: any other first character",
                    },
                    secretRule: "printable ASCII without whitespace, quotes or backslash",
                    chapWordRule: "printable ASCII without whitespace, quotes, backslash, '#' or '*'",
                },
            });
            expect(() => sync({ ...input, region: "Europe (Ireland)" })).to.throw(/not an AWS region/);
        });
        it("installs the program the user-data names by its SHA-256, from its parameters, then runs the first sync", () => {
            const program = syncProgram();
            // the agent's zipapp as npm run build:agent wrote it, hashed over its bytes
            const built = fs.readFileSync(assetPath("dist", "agent", "vpn-gateway-sync.pyz"));
            expect(program.bytes.equals(built)).to.equal(true);
            expect(program.sha256).to.equal(createHash("sha256").update(built).digest("hex"));
            expect(built.subarray(0, 19).toString("latin1")).to.equal("#!/usr/bin/python3\n");
            expect(component.commands).to.deep.equal([
                [SYNC_INSTALLER, program.sha256, String(program.chunks.length)],
                [SYNC_PROGRAM, "boot"],
            ]);
            const parameters = programParameters("/vpn-gateway/test");
            expect(parameters.map((p) => p.name)).to.deep.equal(program.chunks.map((_, i) => `/vpn-gateway/test/program/${i + 1}`));
            for (const p of parameters) expect(p.value.length).to.be.at.most(4096);
            // what the installer does with them: join, base64, gunzip
            const back = zlib.gunzipSync(Buffer.from(parameters.map((p) => p.value).join(""), "base64"));
            expect(back.equals(built)).to.equal(true);
            expect(file(component, SYNC_INSTALLER).permissions).to.equal("0755");
            expect(component.packages).to.deep.equal(["python3-boto3"]);
        });
        it("polls from a timer, and runs the boot unit at later boots only", () => {
            expect(component.services).to.deep.equal(["vpn-gateway-sync.timer"]);
            expect(component.enableOnly).to.deep.equal(["vpn-gateway-sync-boot.service"]);
            for (const unit of ["vpn-gateway-sync-boot.service", "vpn-gateway-sync.service", "vpn-gateway-sync.timer"]) {
                expect(file(component, `/etc/systemd/system/${unit}`).source).to.equal(`sync/${unit}`);
            }
        });
        it("does not depend on the users or the PSK", () => {
            const other = settings({ psk: "other-psk-0123456789", users: [{ name: "zed", password: "zed-pw-1234", ip: "192.168.42.99" }] });
            expect(sync({ ...input, clientPool: other.clientPool })).to.deep.equal(component);
        });
    });

    describe("sysctl", () => {
        const component = sysctl();
        const conf = lines(file(component, "/etc/sysctl.d/60-vpn-gateway.conf").content);
        it("matches its snapshot", () => snapshot("sysctl", component));
        it("forwards, ignores and sends no redirects, and disables reverse-path filtering", () => {
            for (const line of [
                "net.ipv4.ip_forward = 1",
                "net.ipv4.conf.all.accept_redirects = 0",
                "net.ipv4.conf.all.send_redirects = 0",
                "net.ipv4.conf.default.send_redirects = 0",
                "net.ipv4.conf.all.rp_filter = 0",
            ]) {
                expect(conf, line).to.include(line);
            }
            expect(component.commands).to.deep.equal([["sysctl", "--load", "/etc/sysctl.d/60-vpn-gateway.conf"]]);
        });
    });

    describe("kernel", () => {
        const component = kernel();
        it("matches its snapshot", () => snapshot("kernel", component));
        it("loads the PPP, L2TP and ESP modules at boot", () => {
            expect(lines(file(component, "/etc/modules-load.d/vpn-gateway.conf").content)).to.deep.equal(KERNEL_MODULES);
            for (const m of ["ppp_generic", "l2tp_ppp", "esp4"]) expect(KERNEL_MODULES).to.include(m);
        });
        it("requires only what pppd and IPsec cannot do without; kernel L2TP or user-space L2TP", () => {
            const tool = file(component, KERNEL_TOOL).content;
            expect(tool).to.contain(`REQUIRED="ppp_generic esp4 xfrm_user"`);
            expect(tool).to.contain(`KERNEL_L2TP="l2tp_core l2tp_netlink l2tp_ppp"`);
            expect(tool).to.contain(`USERSPACE_L2TP="ppp_async"`);
        });
        it("prepares the kernel on every boot from cloud-init's per-boot scripts and checks it first in runcmd", () => {
            const perBoot = file(component, "/var/lib/cloud/scripts/per-boot/vpn-gateway-kernel");
            expect(perBoot.permissions).to.equal("0755");
            expect(perBoot.content).to.equal(`#!/bin/sh\nexec ${KERNEL_TOOL} prepare\n`);
            expect(component.commands).to.deep.equal([[KERNEL_TOOL, "check"]]);
        });
    });

    describe("firewall", () => {
        const component = firewall(settings());
        const script = file(component, "/usr/local/sbin/vpn-gateway-firewall").content;
        it("matches its snapshot", () => snapshot("firewall", component));
        it("finds the public interface at boot instead of assuming eth0", () => {
            expect(script).to.contain("ip -4 route show default");
            expect(lines(script).join("\n")).not.to.match(/\beth0\b|\bens5\b/);
        });
        it("masquerades the pool on the public interface", () => {
            expect(script).to.contain("-A POSTROUTING -s 192.168.42.0/24 -o ${iface} -j MASQUERADE");
        });
        it("accepts IKE/NAT-T and L2TP only inside IPsec", () => {
            expect(script).to.contain("-A INPUT -p udp -m multiport --dports 500,4500 -j ACCEPT");
            const accept = script.indexOf("-A INPUT -p udp --dport 1701 -m policy --dir in --pol ipsec -j ACCEPT");
            const drop = script.indexOf("-A INPUT -p udp --dport 1701 -j DROP");
            expect(accept).to.be.greaterThan(-1);
            expect(drop).to.be.greaterThan(accept);
        });
        it("refuses a second device's NAT-T from an address that has one, before it is accepted", () => {
            const limit = script.indexOf("-A INPUT -p udp --dport 4500 -m connlimit --connlimit-above 1 --connlimit-mask 32 -j DROP");
            expect(limit).to.be.greaterThan(script.indexOf("-A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT"));
            expect(limit).to.be.lessThan(script.indexOf("-A INPUT -p udp -m multiport --dports 500,4500 -j ACCEPT"));
        });
        it("never sends L2TP out in clear (a client's SAs can go before its L2TP session)", () => {
            expect(script).to.contain("-A OUTPUT -p udp --sport 1701 ! -o lo -m policy --dir out --pol none -j DROP");
        });
        it("denies by default and forwards only the pool", () => {
            expect(script).to.contain(":INPUT DROP");
            expect(script).to.contain(":FORWARD DROP");
            expect(script).to.contain("-A FORWARD -i ppp+ -s 192.168.42.0/24 -o ${iface} -j ACCEPT");
            expect(script).to.contain("-A FORWARD -i ppp+ -d 169.254.0.0/16 -j DROP");
            expect(script).to.contain("TCPMSS --clamp-mss-to-pmtu");
        });
        it("forwards the IKEv2 pool only out of an IPsec SA, masquerades it, and keeps it from the metadata service", () => {
            const accept = script.indexOf("-A FORWARD -s 192.168.43.0/24 -o ${iface} -m policy --dir in --pol ipsec -j ACCEPT");
            const metadata = script.indexOf("-A FORWARD -s 192.168.43.0/24 -d 169.254.0.0/16 -j DROP");
            expect(metadata).to.be.greaterThan(-1);
            expect(accept).to.be.greaterThan(metadata);
            expect(script).to.contain("-A POSTROUTING -s 192.168.43.0/24 -o ${iface} -m policy --dir out --pol none -j MASQUERADE");
            // clients of either method apart, before the accepts
            for (const rule of [
                "-A FORWARD -i ppp+ -d 192.168.43.0/24 -j DROP",
                "-A FORWARD -s 192.168.43.0/24 -d 192.168.42.0/24 -j DROP",
                "-A FORWARD -s 192.168.43.0/24 -d 192.168.43.0/24 -j DROP",
            ]) {
                expect(script.indexOf(rule), rule).to.be.greaterThan(-1);
                expect(script.indexOf(rule), rule).to.be.lessThan(accept);
            }
            const together = file(firewall(settings({ allowClientToClient: "true" })), "/usr/local/sbin/vpn-gateway-firewall").content;
            expect(together).to.contain("-A FORWARD -s 192.168.43.0/24 -d 192.168.43.0/24 -m policy --dir in --pol ipsec -j ACCEPT");
            expect(together).not.to.contain("-A FORWARD -s 192.168.43.0/24 -d 192.168.43.0/24 -j DROP");
        });
        it("lets each IKEv2 device behind one NAT in: an IKEv2 first packet passes before the one-L2TP-device limit", () => {
            const ikev2 = script.indexOf('-A INPUT -p udp --dport 4500 -m u32 --u32 "0>>22&0x3C@8=0 && 0>>22&0x3C@29>>24=0x20" -j ACCEPT');
            expect(ikev2).to.be.greaterThan(-1);
            expect(ikev2).to.be.lessThan(script.indexOf("-A INPUT -p udp --dport 4500 -m connlimit"));
        });
        it("opens SSH only from the admin CIDR, when asked", () => {
            expect(script).not.to.contain("--dport 22");
            const withSsh = file(firewall(settings({ adminCidr: "198.51.100.7/32", sshKeyName: "me" })), "/usr/local/sbin/vpn-gateway-firewall").content;
            expect(withSsh).to.contain("-A INPUT -p tcp --dport 22 -s 198.51.100.7/32 -j ACCEPT");
        });
        it("persists through its own unit, ordered before the VPN daemons", () => {
            const unit = file(component, "/etc/systemd/system/vpn-gateway-firewall.service").content;
            expect(unit).to.contain("Before=ipsec.service xl2tpd.service");
            expect(unit).to.contain("ExecStart=/usr/local/sbin/vpn-gateway-firewall");
            expect(unit).to.contain("WantedBy=multi-user.target");
            expect(component.services).to.deep.equal(["vpn-gateway-firewall.service"]);
        });
    });
});

describe("first-boot components, operations", () => {
    it("restarts the VPN daemons when they die", () => {
        const dropIn = file(ipsec(ipsecInput()), "/etc/systemd/system/ipsec.service.d/vpn-gateway.conf").content;
        expect(lines(dropIn)).to.include.members(["[Service]", "Restart=always"]);
        // xl2tpd: a native unit in place of the init script's generated one, with the daemon in
        // the foreground as its main process (a forking daemon without a PID file is untracked)
        const component = l2tp(settings());
        expect(component.files.map((f) => f.path)).not.to.include("/etc/systemd/system/xl2tpd.service.d/vpn-gateway.conf");
        const unit = lines(file(component, "/etc/systemd/system/xl2tpd.service").content);
        expect(unit).to.include.members(["Type=simple", "Restart=always", "WantedBy=multi-user.target"]);
        expect(unit.find((l) => l.startsWith("ExecStart="))).to.match(/^ExecStart=\/usr\/sbin\/xl2tpd -D /);
    });

    it("logs who connects, from which address, without secrets", () => {
        const component = ppp(settings());
        for (const dir of ["ip-up.d", "ip-down.d"]) {
            const script = file(component, `/etc/ppp/${dir}/vpn-gateway-connect`);
            expect(script.permissions).to.equal("0755");
            expect(script.content).to.contain("logger -t vpn-gateway");
            expect(script.content).to.contain("user=${PEERNAME");
            expect(script.content).to.contain("address=${PPP_REMOTE");
            expect(script.content).to.contain("from=${PPP_IPPARAM");
            expect(lines(script.content).join("\n")).not.to.match(/password|PSK|secret/i);
        }
        expect(lines(file(component, "/etc/ppp/options.xl2tpd").content)).not.to.include("debug");
    });

    it("applies security updates unattended, in a night window, never rebooting", () => {
        const component = updates();
        expect(component.packages).to.deep.equal(["unattended-upgrades"]);
        const conf = file(component, "/etc/apt/apt.conf.d/52vpn-gateway-upgrades").content;
        expect(conf).to.contain('APT::Periodic::Unattended-Upgrade "1";');
        expect(conf).to.contain('Unattended-Upgrade::Automatic-Reboot "false";');
        const timer = lines(file(component, "/etc/systemd/system/apt-daily-upgrade.timer.d/vpn-gateway.conf").content);
        expect(timer).to.include.ordered.members(["[Timer]", "OnCalendar=", `OnCalendar=*-*-* ${MAINTENANCE_WINDOW}`]);
    });

    it("lets clients reach each other only when allowed", () => {
        const script = (o: Record<string, unknown>) => file(firewall(settings(o)), "/usr/local/sbin/vpn-gateway-firewall").content;
        expect(script({})).to.contain("-A FORWARD -i ppp+ -o ppp+ -j DROP");
        expect(script({})).not.to.match(/-o ppp\+.* -j ACCEPT/);
        const allowed = script({ allowClientToClient: "true" });
        expect(allowed).not.to.contain("-A FORWARD -i ppp+ -o ppp+ -j DROP");
        // FORWARD's policy is DROP: allowing means an explicit accept, pool to pool only
        expect(allowed).to.contain("-A FORWARD -i ppp+ -s 192.168.42.0/24 -o ppp+ -d 192.168.42.0/24 -j ACCEPT");
    });
});
