// The PKI state (components/pki/ledger.ts): certificates as openssl and @peculiar/x509 read them,
// and reconcilePki's rules: stable on a re-run, and each change of the request changing only its part.
import { expect } from "chai";
import * as x509 from "@peculiar/x509";
import { PKI_FORMAT, PkiState, reconcilePki } from "../../components/pki/ledger";
import { ADDRESS, AWKWARD, CA_NAME, T0, T1, baseState, openssl, request, tmpFile, users } from "./fixtures";

const cert = (pem: string) => new x509.X509Certificate(pem);
const YEAR_MS = 365.25 * 86400_000;

function extension<T extends x509.Extension>(c: x509.X509Certificate, type: new (raw: BufferSource) => T): T {
    const found = c.getExtension(type);
    expect(found, type.name).to.not.equal(null);
    return found!;
}

describe("pki ledger: certificates", () => {
    let state: PkiState;
    before(async () => {
        state = await baseState();
    });

    it("the CA: CN, CA:TRUE critical, keyCertSign+cRLSign critical, RSA 3072, 10 years from an hour ago", () => {
        const text = openssl("x509", "-noout", "-text", "-in", tmpFile("ca.pem", state.ca.certPem));
        expect(text).to.include(`Subject: CN = ${CA_NAME}`);
        expect(text).to.include(`Issuer: CN = ${CA_NAME}`);
        expect(text).to.match(/Basic Constraints: critical\s+CA:TRUE/);
        expect(text).to.match(/Key Usage: critical\s+Certificate Sign, CRL Sign/);
        expect(text).to.include("Subject Key Identifier");
        expect(text).to.include("Public-Key: (3072 bit)");
        expect(text).to.include("sha256WithRSAEncryption");
        const ca = cert(state.ca.certPem);
        expect(ca.notBefore.getTime()).to.equal(T0.getTime() - 3600_000);
        expect(ca.notAfter.getUTCFullYear()).to.equal(T0.getUTCFullYear() + 10);
        expect(extension(ca, x509.BasicConstraintsExtension).ca).to.equal(true);
    });

    it("the server: CN and SANs (iPAddress and dNSName) the address, serverAuth + ikeIntermediate, not past the CA", () => {
        const text = openssl("x509", "-noout", "-text", "-in", tmpFile("server.pem", state.server.certPem));
        expect(text).to.include(`Subject: CN = ${ADDRESS}`);
        expect(text).to.include(`IP Address:${ADDRESS}, DNS:${ADDRESS}`);
        expect(text).to.match(/Extended Key Usage: \s+TLS Web Server Authentication, 1\.3\.6\.1\.5\.5\.8\.2\.2/);
        expect(text).to.match(/Key Usage: critical\s+Digital Signature, Key Encipherment/);
        expect(text).to.include("Public-Key: (2048 bit)");
        expect(text).to.include("Authority Key Identifier");
        const server = cert(state.server.certPem);
        const ca = cert(state.ca.certPem);
        const sans = extension(server, x509.SubjectAlternativeNameExtension).names.toJSON();
        expect(sans).to.deep.equal([
            { type: "ip", value: ADDRESS },
            { type: "dns", value: ADDRESS },
        ]);
        expect(extension(server, x509.ExtendedKeyUsageExtension).usages).to.deep.equal(["1.3.6.1.5.5.7.3.1", "1.3.6.1.5.5.8.2.2"]);
        expect(extension(server, x509.BasicConstraintsExtension).ca).to.equal(false);
        expect(extension(server, x509.AuthorityKeyIdentifierExtension).keyId).to.equal(extension(ca, x509.SubjectKeyIdentifierExtension).keyId);
        expect(server.notAfter.getTime()).to.be.at.most(ca.notAfter.getTime());
        expect(server.notAfter.getTime() - server.notBefore.getTime()).to.be.above(9.9 * YEAR_MS);
    });

    it("a user: CN and dNSName the name, clientAuth, the serial the state holds (16 bytes, positive)", () => {
        const user = state.users.alice;
        const text = openssl("x509", "-noout", "-text", "-in", tmpFile("alice.pem", user.certPem));
        expect(text).to.include("Subject: CN = alice");
        expect(text).to.match(/Subject Alternative Name: \s+DNS:alice\n/);
        expect(text).to.match(/Extended Key Usage: \s+TLS Web Client Authentication\n/);
        expect(text).to.match(/Key Usage: critical\s+Digital Signature, Key Encipherment/);
        const c = cert(user.certPem);
        expect(c.serialNumber.toLowerCase()).to.equal(user.serial);
        expect(user.serial).to.match(/^[0-7][0-9a-f]{31}$/);
        expect(user.serial.slice(0, 2)).to.not.equal("00");
        expect(user.p12Password).to.match(/^[A-Za-z0-9]{24}$/);
        expect(user.issuedAt).to.equal(T0.toISOString());
        expect(user.keyPem).to.match(/^-----BEGIN PRIVATE KEY-----\n/);
    });

    it("names with ',', '=', '+', '\"', '<', '@' are one literal CN (RFC 2253 escaped) and one dNSName; '@' adds an rfc822Name", () => {
        for (const name of AWKWARD) {
            const c = cert(state.users[name].certPem);
            const cn = c.subjectName.toJSON();
            expect(cn, name).to.deep.equal([{ CN: [name] }]);
            const sans = extension(c, x509.SubjectAlternativeNameExtension).names.toJSON();
            expect(sans, name).to.deep.equal([{ type: "dns", value: name }, ...(name.includes("@") ? [{ type: "email", value: name }] : [])]);
        }
        const subject = (name: string) =>
            openssl("x509", "-noout", "-subject", "-nameopt", "RFC2253", "-in", tmpFile("awkward.pem", state.users[name].certPem)).trim();
        expect(subject("a,b=c+d")).to.equal("subject=CN=a\\,b=c\\+d");
        expect(subject('e"f@example.com')).to.equal('subject=CN=e\\"f@example.com');
        expect(subject("x<&>'y!")).to.equal("subject=CN=x\\<&\\>'y!");
        const text = openssl("x509", "-noout", "-ext", "subjectAltName", "-in", tmpFile("awkward.pem", state.users['e"f@example.com'].certPem));
        expect(text).to.include('DNS:e"f@example.com, email:e"f@example.com');
    });

    it("openssl verifies the server and every user against the CA", () => {
        const files = [
            tmpFile("server.pem", state.server.certPem),
            ...Object.keys(state.users).map((name, i) => tmpFile(`user${i}.pem`, state.users[name].certPem)),
        ];
        const out = openssl("verify", "-CAfile", tmpFile("ca.pem", state.ca.certPem), ...files);
        expect(out.trim().split("\n"))
            .to.have.length(files.length)
            .and.to.satisfy((lines: string[]) => lines.every((l) => l.endsWith(": OK")));
    });

    it("every serial differs", () => {
        const serials = [state.ca.certPem, state.server.certPem, ...Object.values(state.users).map((u) => u.certPem)].map((p) => cert(p).serialNumber);
        expect(new Set(serials).size).to.equal(serials.length);
    });
});

describe("pki ledger: reconcile", () => {
    let state: PkiState;
    before(async () => {
        state = await baseState();
    });

    it("a new state: the format, every user issued, nothing revoked, CRL number 1 at the creation time", () => {
        expect(state.format).to.equal(PKI_FORMAT);
        expect(Object.keys(state.users)).to.deep.equal([...["alice", "bob", "carol", ...AWKWARD]].sort());
        expect(state.revoked).to.deep.equal([]);
        expect(state.crlNumber).to.equal(1);
        expect(state.updatedAt).to.equal(T0.toISOString());
        expect(state.server.address).to.equal(ADDRESS);
    });

    it("is stable: the same request (at a later time, users in another order) returns the state unchanged", async () => {
        const again = await reconcilePki(state, request({ now: T1, users: request().users.reverse() }));
        expect(again).to.deep.equal(state);
        expect(JSON.stringify(again)).to.equal(JSON.stringify(state));
    });

    it("a user removed from the request: revoked as cessationOfOperation, the rest kept byte-identical", async () => {
        const next = await reconcilePki(state, request({ now: T1, users: users("alice", "carol", ...AWKWARD) }));
        expect(next.users).to.not.have.property("bob");
        expect(next.revoked).to.deep.equal([{ serial: state.users.bob.serial, name: "bob", revokedAt: T1.toISOString(), reason: "cessationOfOperation" }]);
        expect(next.crlNumber).to.equal(2);
        expect(next.updatedAt).to.equal(T1.toISOString());
        expect(next.users.alice).to.deep.equal(state.users.alice);
        expect(next.ca).to.deep.equal(state.ca);
        expect(next.server).to.deep.equal(state.server);
    });

    it("revoked: true revokes (unspecified) and issues nothing while it stays so", async () => {
        const req = request({ now: T1, users: [...users("alice", "carol", ...AWKWARD), { name: "bob", reissue: 0, revoked: true }] });
        const next = await reconcilePki(state, req);
        expect(next.users).to.not.have.property("bob");
        expect(next.revoked).to.deep.equal([{ serial: state.users.bob.serial, name: "bob", revokedAt: T1.toISOString(), reason: "unspecified" }]);
        const later = await reconcilePki(next, { ...req, now: new Date(T1.getTime() + 1000) });
        expect(later).to.deep.equal(next);
    });

    it("reissue raised: the old certificate superseded, a new key, certificate, serial and password", async () => {
        const req = request({ now: T1, users: request().users.map((u) => (u.name === "alice" ? { ...u, reissue: 1 } : u)) });
        const next = await reconcilePki(state, req);
        const [old, now] = [state.users.alice, next.users.alice];
        expect(now.reissue).to.equal(1);
        expect(now.serial).to.not.equal(old.serial);
        expect(now.keyPem).to.not.equal(old.keyPem);
        expect(now.certPem).to.not.equal(old.certPem);
        expect(now.p12Password).to.not.equal(old.p12Password);
        expect(now.issuedAt).to.equal(T1.toISOString());
        expect(next.revoked).to.deep.equal([{ serial: old.serial, name: "alice", revokedAt: T1.toISOString(), reason: "superseded" }]);
        expect(next.users.bob).to.deep.equal(state.users.bob);
        // The same raised number again changes nothing.
        expect(await reconcilePki(next, { ...req, now: new Date(T1.getTime() + 5000) })).to.deep.equal(next);
    });

    it("a revoked user back in the request: a new certificate and serial, the old serial still revoked", async () => {
        const gone = await reconcilePki(state, request({ now: T1, users: users("alice", "carol") }));
        const back = await reconcilePki(gone, request({ now: new Date(T1.getTime() + 60_000), users: users("alice", "bob", "carol") }));
        expect(back.users.bob.serial).to.not.equal(state.users.bob.serial);
        expect(back.revoked.map((r) => r.serial)).to.include(state.users.bob.serial);
        expect(back.revoked).to.deep.equal(gone.revoked);
        expect(back.crlNumber).to.equal(gone.crlNumber);
        expect(gone.crlNumber).to.equal(2);
    });

    it("revoked never shrinks and stays sorted by revokedAt then serial", async () => {
        const a = await reconcilePki(state, request({ now: T1, users: users("alice", "bob") }));
        const b = await reconcilePki(a, request({ now: new Date(T1.getTime() + 60_000), users: users("bob") }));
        expect(b.revoked.slice(0, a.revoked.length)).to.deep.equal(a.revoked);
        expect(b.revoked).to.have.length(a.revoked.length + 1);
        const keys = b.revoked.map((r) => `${r.revokedAt} ${r.serial}`);
        expect(keys).to.deep.equal([...keys].sort());
        expect(b.crlNumber).to.equal(3);
    });

    it("a new address: a new server key and certificate, users kept", async () => {
        const next = await reconcilePki(state, request({ now: T1, address: "198.51.100.7" }));
        expect(next.server.address).to.equal("198.51.100.7");
        expect(next.server.keyPem).to.not.equal(state.server.keyPem);
        expect(openssl("x509", "-noout", "-ext", "subjectAltName", "-in", tmpFile("server2.pem", next.server.certPem))).to.include(
            "IP Address:198.51.100.7, DNS:198.51.100.7",
        );
        expect(next.users).to.deep.equal(state.users);
        expect(next.ca).to.deep.equal(state.ca);
        expect(next.crlNumber).to.equal(state.crlNumber);
    });

    it("users that are revoked from the start are never issued", async () => {
        const next = await reconcilePki(state, request({ now: T1, users: [...request().users, { name: "dave", reissue: 3, revoked: true }] }));
        expect(next).to.deep.equal(state);
    });
});

describe("pki ledger: refused requests", () => {
    let state: PkiState;
    before(async () => {
        state = await baseState();
    });
    const refused = async (promise: Promise<unknown>, pattern: RegExp) => {
        let error: unknown;
        try {
            await promise;
        } catch (e) {
            error = e;
        }
        expect(error, "an error").to.be.instanceOf(Error);
        expect((error as Error).message).to.match(pattern);
    };

    it("an address that is not IPv4", async () => {
        for (const address of ["vpn.example.com", "203.0.113", "203.0.113.256", "2001:db8::1", "203.0.113.010", ""]) {
            await refused(reconcilePki(state, request({ address })), /address .*IPv4/);
        }
    });

    it("duplicate names", async () => {
        await refused(reconcilePki(state, request({ users: users("alice", "bob", "alice") })), /users\[2\]\.name "alice": duplicate/);
    });

    it("a reissue that is not a whole number, 0 or more", async () => {
        for (const reissue of [-1, 1.5, NaN, "1" as unknown as number]) {
            await refused(reconcilePki(state, request({ users: [{ name: "alice", reissue, revoked: false }] })), /users\[0\]\.reissue .*user "alice"/);
        }
    });

    it("a reissue lower than the state's", async () => {
        const raised = await reconcilePki(state, request({ now: T1, users: [{ name: "alice", reissue: 2, revoked: false }] }));
        await refused(
            reconcilePki(raised, request({ users: [{ name: "alice", reissue: 1, revoked: false }] })),
            /users\[0\]\.reissue 1 .*"alice".*lower than .* 2/,
        );
    });

    it("names that do not fit a certificate: empty, non-ASCII, control characters, over 64 characters", async () => {
        for (const name of ["", "zoë", "tab\there", "x".repeat(65), " padded"]) {
            await refused(reconcilePki(state, request({ users: [{ name, reissue: 0, revoked: false }] })), /users\[0\]\.name/);
        }
    });

    it("a state of another format, and a CA name that differs from the state's CA", async () => {
        await refused(reconcilePki({ ...state, format: 2 as 1 }, request()), /format 2.*format 1/);
        await refused(reconcilePki(state, request({ caName: "another CA" })), /caName "another CA".*"vpn-gateway test CA"/);
    });
});
