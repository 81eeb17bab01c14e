// The client command: each format from a state made by the real generator, read back by an
// independent reader (python3's plistlib, JSON, openssl), and its refusals.
import { expect } from "chai";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { PkiState, reconcilePki } from "../../components/pki/ledger";
import { appleMobileconfig, p12Password, strongswanProfile, userP12 } from "../../components/pki/profiles";
import { ADDRESS, CA_NAME, T0, openssl } from "../pki/fixtures";

import { commandLine } from "../helpers";

const ROOT = path.join(__dirname, "..", "..");

function client(args: string[], env: NodeJS.ProcessEnv = process.env) {
    return spawnSync(process.execPath, [...commandLine("client").slice(1), ...args], {
        cwd: ROOT,
        env,
    });
}
const text = (r: ReturnType<typeof client>) => ({ status: r.status, stdout: r.stdout.toString("utf8"), stderr: r.stderr.toString("utf8") });

describe("client command", function () {
    this.timeout(60000);
    let state: PkiState;
    let stateFile: string;
    let dir: string;

    before(async () => {
        // alice, "o'neil $x" and carol's two devices current, bob revoked
        const devices = ["carol.laptop", "carol.phone"].map((name) => ({ name, reissue: 0, revoked: false }));
        const first = await reconcilePki(undefined, {
            caName: CA_NAME,
            address: ADDRESS,
            users: [...["alice", "bob", "o'neil$x"].map((name) => ({ name, reissue: 0, revoked: false })), ...devices],
            now: T0,
        });
        state = await reconcilePki(first, {
            caName: CA_NAME,
            address: ADDRESS,
            users: [
                { name: "alice", reissue: 0, revoked: false },
                { name: "bob", reissue: 0, revoked: true },
                { name: "o'neil$x", reissue: 0, revoked: false },
                ...devices,
            ],
            now: T0,
        });
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "client-"));
        stateFile = path.join(dir, "pki-state.json");
        fs.writeFileSync(stateFile, JSON.stringify(state));
    });

    it("mobileconfig: the Apple profile, a plist python3's plistlib reads", () => {
        const r = text(client(["--state", stateFile, "--user", "alice", "--format", "mobileconfig"]));
        expect(r.status, r.stderr).to.equal(0);
        expect(r.stdout).to.equal(appleMobileconfig(state, "alice"));
        const py = spawnSync(
            "python3",
            [
                "-c",
                "import plistlib,sys,json; p=plistlib.loads(sys.stdin.buffer.read()); print(json.dumps([c['PayloadType'] for c in p['PayloadContent']]+[p['PayloadContent'][2]['IKEv2']['RemoteAddress']]))",
            ],
            {
                input: r.stdout,
                encoding: "utf8",
            },
        );
        expect(py.status, py.stderr).to.equal(0);
        expect(JSON.parse(py.stdout)).to.deep.equal(["com.apple.security.pkcs12", "com.apple.security.root", "com.apple.vpn.managed", ADDRESS]);
    });

    it("sswan: the strongSwan app's profile, JSON", () => {
        const r = text(client(["--state", stateFile, "--user", "alice", "--format", "sswan"]));
        expect(r.status, r.stderr).to.equal(0);
        expect(r.stdout).to.equal(strongswanProfile(state, "alice"));
        expect(JSON.parse(r.stdout)).to.deep.include({ type: "ikev2-cert", remote: JSON.parse(r.stdout).remote });
        expect(JSON.parse(r.stdout).remote.addr).to.equal(ADDRESS);
    });

    it("p12: binary, written with --out (mode 0600), or to a pipe; openssl reads it with p12-password's password", () => {
        const out = path.join(dir, "alice.p12");
        const written = text(client(["--state", stateFile, "--user", "alice", "--format", "p12", "--out", out]));
        expect(written.status, written.stderr).to.equal(0);
        expect(written.stdout).to.equal("");
        expect(fs.readFileSync(out).equals(userP12(state, "alice"))).to.equal(true);
        expect(fs.statSync(out).mode & 0o777).to.equal(0o600);
        const piped = client(["--state", stateFile, "--user", "alice", "--format", "p12"]);
        expect(piped.status).to.equal(0);
        expect(Buffer.compare(piped.stdout, userP12(state, "alice"))).to.equal(0);
        const password = text(client(["--state", stateFile, "--user", "alice", "--format", "p12-password"]));
        expect(password.status, password.stderr).to.equal(0);
        expect(password.stdout).to.equal(`${p12Password(state, "alice")}\n`);
        const certs = openssl("pkcs12", "-in", out, "-passin", `pass:${password.stdout.trim()}`, "-nokeys", "-clcerts");
        expect(certs)
            .to.match(/subject=\s*CN\s*=\s*alice\n/)
            .and.to.contain("BEGIN CERTIFICATE");
    });

    it("p12: refuses to write binary to a terminal, naming --out", function () {
        // A terminal for stdout: python3's pty runs the command with one.
        const py = spawnSync(
            "python3",
            [
                "-c",
                "import pty,sys,os; sys.exit(os.waitstatus_to_exitcode(pty.spawn(sys.argv[1:])))",
                ...commandLine("client"),
                "--state",
                stateFile,
                "--user",
                "alice",
                "--format",
                "p12",
            ],
            { cwd: ROOT, encoding: "utf8", input: "" },
        );
        if (py.error) this.skip();
        expect(py.status).to.equal(2);
        expect(py.stdout).to.contain("--format p12 is binary: give --out FILE");
    });

    it("ca: the CA certificate as PEM", () => {
        const r = text(client(["--state", stateFile, "--user", "alice", "--format", "ca"]));
        expect(r.status, r.stderr).to.equal(0);
        expect(r.stdout).to.equal(state.ca.certPem);
        expect(openssl("x509", "-in", writeTemp("ca.pem", r.stdout), "-noout", "-subject")).to.match(/CN\s*=\s*vpn-gateway test CA/);
    });

    it("windows: certutil with the password, Add-VpnConnection and Set-VpnConnectionIPsecConfiguration as the gateway needs them", () => {
        const r = text(client(["--state", stateFile, "--user", "alice", "--format", "windows"]));
        expect(r.status, r.stderr).to.equal(0);
        expect(r.stdout).to.contain(`certutil -f -p '${p12Password(state, "alice")}' -importpfx 'alice.p12' NoExport`);
        expect(r.stdout).to.contain(
            `Add-VpnConnection -Name 'VPN ${ADDRESS}' -ServerAddress '${ADDRESS}' -TunnelType IKEv2 -AuthenticationMethod MachineCertificate -EncryptionLevel Required -PassThru`,
        );
        expect(r.stdout).to.contain(
            `Set-VpnConnectionIPsecConfiguration -ConnectionName 'VPN ${ADDRESS}' -AuthenticationTransformConstants GCMAES128 -CipherTransformConstants GCMAES128 -EncryptionMethod GCMAES128 -IntegrityCheckMethod SHA256 -DHGroup Group14 -PfsGroup None -Force`,
        );
        expect(r.stdout).to.contain("npm run client -- --user alice --format p12 --out alice.p12");
        // a quote in a name is doubled inside PowerShell's single quotes
        const awkward = text(client(["--state", stateFile, "--user", "o'neil$x", "--format", "windows"]));
        expect(awkward.stdout).to.contain(`-importpfx 'o''neil$x.p12' NoExport`);
    });

    it("android: the built-in client's IKEv2/IPSec RSA fields with the installed CA, and the strongSwan app", () => {
        const r = text(client(["--state", stateFile, "--user", "alice", "--format", "android"]));
        expect(r.status, r.stderr).to.equal(0);
        for (const line of [
            "Type: IKEv2/IPSec RSA",
            `Server address: ${ADDRESS}`,
            "IPSec identifier: alice",
            "IPSec CA certificate: the CA installed in step 2",
            "Install a certificate > VPN & app user certificate",
            "Install a certificate > CA certificate: ca.crt",
            "npm run client -- --user alice --format sswan --out alice.sswan",
        ]) {
            expect(r.stdout).to.contain(line);
        }
        expect(r.stdout).to.match(/not "Don't verify server"/);
    });

    it("networkmanager: openssl extracts the certificate and key, nmcli adds a strongswan connection with the gateway's proposals", () => {
        const r = text(client(["--state", stateFile, "--user", "alice", "--format", "networkmanager"]));
        expect(r.status, r.stderr).to.equal(0);
        expect(r.stdout).to.contain(
            `nmcli connection add type vpn vpn-type strongswan con-name 'VPN ${ADDRESS}' vpn.data "address=${ADDRESS}, certificate=$PWD/ca.pem, method=key, usercert=$PWD/alice.crt, userkey=$PWD/alice.key, virtual=yes, proposal=yes, ike=aes256gcm16-prfsha256-modp2048, esp=aes256gcm16"`,
        );
        // the openssl lines work as printed: run them in a directory holding the files
        const work = fs.mkdtempSync(path.join(os.tmpdir(), "client-nm-"));
        fs.writeFileSync(path.join(work, "alice.p12"), userP12(state, "alice"));
        const lines = r.stdout
            .split("\n")
            .map((l) => l.trim())
            .filter((l) => l.includes("openssl pkcs12"));
        expect(lines).to.have.length(2);
        const sh = spawnSync("bash", ["-e", "-c", lines.join("\n")], { cwd: work, encoding: "utf8" });
        expect(sh.status, sh.stderr).to.equal(0);
        expect(fs.readFileSync(path.join(work, "alice.crt"), "utf8")).to.contain(state.users.alice.certPem.trim());
        expect(fs.readFileSync(path.join(work, "alice.key"), "utf8")).to.contain("BEGIN PRIVATE KEY");
        expect(fs.statSync(path.join(work, "alice.key")).mode & 0o077).to.equal(0);
    });

    it("an unknown user: exit 2, naming --user and the known users", () => {
        const r = text(client(["--state", stateFile, "--user", "mallory", "--format", "ca"]));
        expect(r.status).to.equal(2);
        expect(r.stderr).to.contain(
            `--user "mallory": no such IKEv2 certificate in the stack's CA; certificates (NAME or NAME.DEVICE): alice, carol.laptop, carol.phone, o'neil$x`,
        );
        expect(r.stdout).to.equal("");
    });

    it("a device's certificate: --device DEVICE is NAME.DEVICE's; the user alone lists the devices", () => {
        const byDevice = text(client(["--state", stateFile, "--user", "carol", "--device", "phone", "--format", "sswan"]));
        expect(byDevice.status, byDevice.stderr).to.equal(0);
        expect(byDevice.stdout).to.equal(strongswanProfile(state, "carol.phone"));
        expect(text(client(["--state", stateFile, "--user", "carol.phone", "--format", "sswan"])).stdout).to.equal(byDevice.stdout);
        expect(byDevice.stdout).to.not.equal(strongswanProfile(state, "carol.laptop"));
        const bare = text(client(["--state", stateFile, "--user", "carol", "--format", "sswan"]));
        expect(bare.status).to.equal(2);
        expect(bare.stderr).to.contain(`--user "carol": this user has a certificate per device; add --device with one of: laptop, phone`);
        const unknown = text(client(["--state", stateFile, "--user", "carol", "--device", "tablet", "--format", "sswan"]));
        expect(unknown.status).to.equal(2);
        expect(unknown.stderr).to.contain(`--user "carol" --device "tablet": no such IKEv2 certificate`);
    });

    it("a revoked user: exit 2, saying it is revoked", () => {
        const r = text(client(["--state", stateFile, "--user", "bob", "--format", "mobileconfig"]));
        expect(r.status).to.equal(2);
        expect(r.stderr).to.contain(`--user "bob": revoked; a revoked certificate is not issued again`);
        expect(r.stdout).to.equal("");
    });

    it("an unknown format: exit 2, listing the formats", () => {
        const r = text(client(["--state", stateFile, "--user", "alice", "--format", "pdf"]));
        expect(r.status).to.equal(2);
        expect(r.stderr).to.contain(`--format "pdf" is not a format; allowed: mobileconfig, sswan, p12, p12-password, ca, windows, android, networkmanager`);
        const missing = text(client(["--state", stateFile, "--format", "ca"]));
        expect(missing.status).to.equal(2);
        expect(missing.stderr).to.contain("--user is required");
    });

    it("reads the stack's pki output through the pulumi CLI, and says so when it is missing", () => {
        // A stand-in pulumi on PATH that prints the state for exactly the expected command.
        const bin = fs.mkdtempSync(path.join(os.tmpdir(), "client-bin-"));
        fs.writeFileSync(
            path.join(bin, "pulumi"),
            `#!/bin/sh\n[ "$*" = "stack output pki --show-secrets --stack prod" ] || { echo "unexpected: $*" >&2; exit 9; }\ncat ${JSON.stringify(stateFile)}\n`,
            { mode: 0o755 },
        );
        const withCli = text(
            client(["--stack", "prod", "--user", "alice", "--format", "p12-password"], { ...process.env, PATH: `${bin}:${process.env.PATH}` }),
        );
        expect(withCli.status, withCli.stderr).to.equal(0);
        expect(withCli.stdout).to.equal(`${p12Password(state, "alice")}\n`);
        const failing = text(client(["--user", "alice", "--format", "ca"], { ...process.env, PATH: `${bin}:${process.env.PATH}` }));
        expect(failing.status).to.equal(1);
        expect(failing.stderr).to.contain("pulumi stack output pki --show-secrets failed (exit 9): unexpected: stack output pki --show-secrets");
        const none = text(client(["--stack", "prod", "--user", "alice", "--format", "ca"], { ...process.env, PATH: path.dirname(process.execPath) }));
        expect(none.status).to.equal(1);
        expect(none.stderr).to.contain("the pulumi CLI is not on PATH (needed to read the stack's pki output); install it, or pass --state FILE");
    });

    it("refuses a file that is not a PKI state", () => {
        const r = text(client(["--state", writeTemp("not-state.json", '{"format":2}'), "--user", "alice", "--format", "ca"]));
        expect(r.status).to.equal(1);
        expect(r.stderr).to.contain("not a PKI state of format 1");
    });

    function writeTemp(name: string, content: string): string {
        const file = path.join(dir, name);
        fs.writeFileSync(file, content);
        return file;
    }
});
