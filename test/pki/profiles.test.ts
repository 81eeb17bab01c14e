// What a user installs (components/pki/profiles.ts): the PKCS#12 as openssl reads it, the Apple
// profile as a plist, the strongSwan profile as JSON; the same state gives the same files.
import { expect } from "chai";
import { execFileSync } from "child_process";
import { PkiState, reconcilePki } from "../../components/pki/ledger";
import { STRONGSWAN_ESP_PROPOSAL, STRONGSWAN_IKE_PROPOSAL, appleMobileconfig, p12Password, strongswanProfile, userP12 } from "../../components/pki/profiles";
import { ADDRESS, AWKWARD, CA_NAME, T1, baseState, openssl, opensslStatus, request, tmpFile } from "./fixtures";

const UUID = /^[0-9A-F]{8}-[0-9A-F]{4}-8[0-9A-F]{3}-[89AB][0-9A-F]{3}-[0-9A-F]{12}$/i;
const derBase64 = (pem: string) => pem.replace(/-----[A-Z ]+-----/g, "").replace(/\s+/g, "");

/** The plist as Python's plistlib reads it, data as base64 (an independent parser). */
function parsePlist(text: string): any {
    const file = tmpFile("profile.mobileconfig", text);
    const script = [
        "import plistlib, sys, json, base64",
        "def conv(v):",
        "    if isinstance(v, bytes): return {'$data': base64.b64encode(v).decode()}",
        "    if isinstance(v, dict): return {k: conv(x) for k, x in v.items()}",
        "    if isinstance(v, list): return [conv(x) for x in v]",
        "    return v",
        "print(json.dumps(conv(plistlib.loads(open(sys.argv[1], 'rb').read()))))",
    ].join("\n");
    return JSON.parse(execFileSync("python3", ["-c", script, file], { encoding: "utf8" }));
}

describe("pki profiles", () => {
    let state: PkiState;
    before(async () => {
        state = await baseState();
    });

    describe("PKCS#12", () => {
        it("openssl reads it with its password (with and without -legacy): the user's key and certificate, and the CA", () => {
            const file = tmpFile("alice.p12", userP12(state, "alice"));
            const password = `pass:${p12Password(state, "alice")}`;
            for (const legacy of [[], ["-legacy"]]) {
                const certs = openssl("pkcs12", ...legacy, "-in", file, "-passin", password, "-nokeys");
                const found = [...certs.matchAll(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g)].map((m) => derBase64(m[0]));
                expect(found).to.have.members([derBase64(state.users.alice.certPem), derBase64(state.ca.certPem)]);
                const key = openssl("pkcs12", ...legacy, "-in", file, "-passin", password, "-nocerts", "-nodes");
                const pkcs8 = key.match(/-----BEGIN PRIVATE KEY-----[\s\S]*?-----END PRIVATE KEY-----/)![0];
                expect(derBase64(pkcs8)).to.equal(derBase64(state.users.alice.keyPem));
            }
        });

        it("is the legacy form importers read: the key under PBE-SHA1-3DES, a SHA-1 MAC, friendlyName the name", () => {
            const name = AWKWARD[2];
            const file = tmpFile("awkward.p12", userP12(state, name));
            const info = opensslStatus("pkcs12", "-info", "-in", file, "-passin", `pass:${p12Password(state, name)}`, "-nodes");
            expect(info.status, info.output).to.equal(0);
            expect(info.output).to.include("MAC: sha1");
            expect(info.output).to.include("Shrouded Keybag: pbeWithSHA1And3-KeyTripleDES-CBC");
            expect(info.output).to.not.match(/PBES2|AES/);
            expect(info.output).to.include(`friendlyName: ${name}`);
        });

        it("refuses a wrong password", () => {
            const file = tmpFile("alice.p12", userP12(state, "alice"));
            expect(opensslStatus("pkcs12", "-in", file, "-passin", "pass:wrong", "-nokeys").status).to.not.equal(0);
        });

        it("is the same bytes for the same state, and differs between users", () => {
            expect(userP12(state, "alice").equals(userP12(state, "alice"))).to.equal(true);
            expect(userP12(state, "alice").equals(userP12(JSON.parse(JSON.stringify(state)), "alice"))).to.equal(true);
            expect(userP12(state, "alice").equals(userP12(state, "bob"))).to.equal(false);
        });
    });

    describe("Apple mobileconfig", () => {
        it("is a plist with the PKCS#12, the CA as a root and an IKEv2 VPN that uses them", () => {
            const profile = parsePlist(appleMobileconfig(state, "alice"));
            expect(profile.PayloadType).to.equal("Configuration");
            expect(profile.PayloadVersion).to.equal(1);
            expect(profile.PayloadUUID).to.match(UUID);
            expect(profile.PayloadIdentifier).to.equal(`vpn-gateway.${ADDRESS}.alice`);
            const [p12, root, vpn] = profile.PayloadContent;
            expect(p12.PayloadType).to.equal("com.apple.security.pkcs12");
            expect(p12.Password).to.equal(p12Password(state, "alice"));
            expect(Buffer.from(p12.PayloadContent.$data, "base64").equals(userP12(state, "alice"))).to.equal(true);
            expect(root.PayloadType).to.equal("com.apple.security.root");
            expect(root.PayloadContent.$data).to.equal(derBase64(state.ca.certPem));
            expect(vpn.PayloadType).to.equal("com.apple.vpn.managed");
            expect(vpn.VPNType).to.equal("IKEv2");
            const uuids = [profile, p12, root, vpn].map((p) => p.PayloadUUID);
            uuids.forEach((uuid) => expect(uuid).to.match(UUID));
            expect(new Set(uuids).size).to.equal(4);
            expect(new Set([profile, p12, root, vpn].map((p) => p.PayloadIdentifier)).size).to.equal(4);
            const sa = { EncryptionAlgorithm: "AES-256-GCM", IntegrityAlgorithm: "SHA2-256", DiffieHellmanGroup: 14, LifeTimeInMinutes: 1440 };
            expect(vpn.IKEv2).to.deep.equal({
                RemoteAddress: ADDRESS,
                RemoteIdentifier: ADDRESS,
                LocalIdentifier: "alice",
                AuthenticationMethod: "Certificate",
                PayloadCertificateUUID: p12.PayloadUUID,
                ServerCertificateIssuerCommonName: CA_NAME,
                ServerCertificateCommonName: ADDRESS,
                ExtendedAuthEnabled: 0,
                EnablePFS: 0,
                IKESecurityAssociationParameters: sa,
                ChildSecurityAssociationParameters: sa,
                DeadPeerDetectionRate: "Medium",
                DisableMOBIKE: 1,
                DisableRedirect: 1,
            });
        });

        it('escapes every string: a name with <, & and " comes back as it was', () => {
            const name = AWKWARD[2];
            const text = appleMobileconfig(state, name);
            expect(text).to.not.include(name);
            expect(text).to.include("x&lt;&amp;&gt;&apos;y!");
            const profile = parsePlist(text);
            expect(profile.PayloadContent[2].IKEv2.LocalIdentifier).to.equal(name);
            expect(profile.PayloadContent[2].UserDefinedName).to.equal(`${name} @ ${ADDRESS}`);
            const quoted = parsePlist(appleMobileconfig(state, 'e"f@example.com'));
            expect(quoted.PayloadContent[2].IKEv2.LocalIdentifier).to.equal('e"f@example.com');
            // A reverse-DNS identifier: the name's other characters become '-', with a hash to keep names apart.
            expect(profile.PayloadIdentifier).to.match(/^vpn-gateway\.203\.0\.113\.10\.x----y--[0-9a-f]{8}$/);
        });

        it("is the same text for the same state (nothing random), and other UUIDs for another user", () => {
            expect(appleMobileconfig(state, "alice")).to.equal(appleMobileconfig(JSON.parse(JSON.stringify(state)), "alice"));
            const [a, b] = [parsePlist(appleMobileconfig(state, "alice")), parsePlist(appleMobileconfig(state, "bob"))];
            expect(a.PayloadUUID).to.not.equal(b.PayloadUUID);
            expect(a.PayloadContent[0].PayloadUUID).to.not.equal(b.PayloadContent[0].PayloadUUID);
        });

        it("dials a DNS name when given one, and still expects the address as the server's identity", () => {
            const vpn = parsePlist(appleMobileconfig(state, "alice", { dnsName: "vpn.example.com" })).PayloadContent[2].IKEv2;
            expect(vpn.RemoteAddress).to.equal("vpn.example.com");
            expect(vpn.RemoteIdentifier).to.equal(ADDRESS);
            expect(() => appleMobileconfig(state, "alice", { dnsName: "not a name" })).to.throw(/dnsName "not a name"/);
        });
    });

    describe("strongSwan .sswan", () => {
        it("is JSON with the documented keys: ikev2-cert, the address and CA, the name and PKCS#12, proposals without ECP", () => {
            const profile = JSON.parse(strongswanProfile(state, "alice"));
            expect(Object.keys(profile)).to.have.members(["uuid", "name", "type", "remote", "local", "ike-proposal", "esp-proposal"]);
            expect(profile.uuid).to.match(UUID);
            expect(profile.name).to.equal(`alice @ ${ADDRESS}`);
            expect(profile.type).to.equal("ikev2-cert");
            expect(profile.remote).to.deep.equal({ addr: ADDRESS, id: ADDRESS, cert: derBase64(state.ca.certPem) });
            expect(profile.local.id).to.equal("alice");
            expect(Buffer.from(profile.local.p12, "base64").equals(userP12(state, "alice"))).to.equal(true);
            expect(profile["ike-proposal"]).to.equal(STRONGSWAN_IKE_PROPOSAL);
            expect(profile["esp-proposal"]).to.equal(STRONGSWAN_ESP_PROPOSAL);
            for (const proposal of [profile["ike-proposal"], profile["esp-proposal"]]) expect(proposal).to.not.match(/ecp|curve/);
        });

        it("holds awkward names as JSON strings, the same text for the same state", () => {
            for (const name of AWKWARD) {
                const profile = JSON.parse(strongswanProfile(state, name));
                expect(profile.local.id).to.equal(name);
                expect(strongswanProfile(state, name)).to.equal(strongswanProfile(JSON.parse(JSON.stringify(state)), name));
            }
        });
    });

    it("every profile refuses a user without a valid certificate, naming it", async () => {
        const revoked = await reconcilePki(
            state,
            request({ now: T1, users: [...request().users.filter((u) => u.name !== "bob"), { name: "bob", reissue: 0, revoked: true }] }),
        );
        for (const make of [userP12, p12Password, appleMobileconfig, strongswanProfile] as ((s: PkiState, n: string) => unknown)[]) {
            expect(() => make(revoked, "bob"), make.name).to.throw(/PKI user "bob": revoked/);
            expect(() => make(revoked, "nobody"), make.name).to.throw(/PKI user "nobody": not in the PKI state/);
            expect(() => make(revoked, "constructor"), make.name).to.throw(/PKI user "constructor"/);
        }
    });
});
