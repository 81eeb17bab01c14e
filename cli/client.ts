// npm run client -- --user NAME [--device DEVICE] --format FORMAT [--stack NAME] [--state FILE] [--out FILE]
// What an IKEv2 user installs, from the stack's CA state: `pulumi stack output pki --show-secrets`
// (the deployed stack's), or --state FILE (a PkiState JSON, e.g. the one `npm run render --
// --out-dir DIR` keeps at DIR/pki-state.json). Every format comes from components/pki alone, so the
// same state gives the same bytes here and in `npm run render`.
import { spawnSync } from "child_process";
import * as fs from "fs";
import { PKI_FORMAT, PkiState } from "../components/pki/ledger";
import { STRONGSWAN_ESP_PROPOSAL, STRONGSWAN_IKE_PROPOSAL, appleMobileconfig, p12Password, strongswanProfile, userP12 } from "../components/pki/profiles";
import { commandLine, writePrivate } from "./common";

export const FORMATS = ["mobileconfig", "sswan", "p12", "p12-password", "ca", "windows", "android", "networkmanager"] as const;
export type Format = (typeof FORMATS)[number];

const USAGE = `usage: npm run client -- --user NAME [--device DEVICE] --format FORMAT [--stack NAME] [--state FILE] [--out FILE]
  FORMAT: ${FORMATS.join(", ")}
  --device: one of users[N].devices (the certificate NAME.DEVICE); the same as --user NAME.DEVICE`;
const FLAGS = ["--user", "--device", "--format", "--stack", "--state", "--out"];

/** A problem with the command line: exit 2, like a usage error. */
class UsageError extends Error {}

function parseArgs(argv: string[]): Record<string, string> {
    const options: Record<string, string> = {};
    for (let i = 0; i < argv.length; i += 2) {
        const [flag, value] = [argv[i], argv[i + 1]];
        if (!FLAGS.includes(flag) || value === undefined) throw new UsageError(`unexpected argument ${JSON.stringify(flag)}\n${USAGE}`);
        options[flag.slice(2)] = value;
    }
    if (!options.user) throw new UsageError(`--user is required: the IKEv2 user's name (users[N].name)\n${USAGE}`);
    if (!options.format) throw new UsageError(`--format is required; allowed: ${FORMATS.join(", ")}\n${USAGE}`);
    if (!(FORMATS as readonly string[]).includes(options.format)) {
        throw new UsageError(`--format ${JSON.stringify(options.format)} is not a format; allowed: ${FORMATS.join(", ")}`);
    }
    if (options.state !== undefined && options.stack !== undefined)
        throw new UsageError(`--state and --stack: give one (--stack reads the deployed stack's state)\n${USAGE}`);
    return options;
}

/** A PkiState as JSON, checked for the fields every format reads; `where` says where it came from. */
export function parseState(text: string, where: string): PkiState {
    let state: PkiState;
    try {
        state = JSON.parse(text);
    } catch {
        throw new Error(`${where}: not JSON; expected the PKI state (a JSON object with format ${PKI_FORMAT}, ca, server, users, revoked)`);
    }
    if (
        state === null ||
        typeof state !== "object" ||
        state.format !== PKI_FORMAT ||
        !state.ca ||
        !state.server ||
        !state.users ||
        !Array.isArray(state.revoked)
    ) {
        throw new Error(`${where}: not a PKI state of format ${PKI_FORMAT} (a JSON object with format, ca, server, users, revoked)`);
    }
    return state;
}

/** The deployed stack's state: `pulumi stack output pki --show-secrets`, through the pulumi CLI. */
function stackState(stack: string | undefined): PkiState {
    const args = ["stack", "output", "pki", "--show-secrets", ...(stack !== undefined ? ["--stack", stack] : [])];
    const result = spawnSync("pulumi", args, { encoding: "utf8", maxBuffer: 256 * 1024 * 1024 });
    const command = `pulumi ${args.join(" ")}`;
    if (result.error) {
        const missing = (result.error as NodeJS.ErrnoException).code === "ENOENT";
        throw new Error(
            missing
                ? `the pulumi CLI is not on PATH (needed to read the stack's pki output); install it, or pass --state FILE`
                : `${command}: ${result.error.message}`,
        );
    }
    if (result.status !== 0) throw new Error(`${command} failed (exit ${result.status}): ${result.stderr.trim()}`);
    return parseState(result.stdout.trim(), `${command}'s output`);
}

/**
 * The certificate's name (the user's, or NAME.DEVICE with --device), or a UsageError naming the
 * option and what is there (revoked ones said as such, a user's devices listed).
 */
export function certificateName(state: PkiState, user: string, device?: string): string {
    const name = device === undefined ? user : `${user}.${device}`;
    const what = device === undefined ? `--user ${JSON.stringify(user)}` : `--user ${JSON.stringify(user)} --device ${JSON.stringify(device)}`;
    if (Object.prototype.hasOwnProperty.call(state.users, name)) return name;
    const known = Object.keys(state.users);
    const list = known.length > 0 ? known.join(", ") : "(none)";
    if (state.revoked.some((r) => r.name === name)) {
        throw new UsageError(`${what}: revoked; a revoked certificate is not issued again (certificates: ${list})`);
    }
    const devices = known.filter((k) => k.startsWith(`${user}.`)).map((k) => k.slice(user.length + 1));
    if (device === undefined && devices.length > 0) {
        throw new UsageError(`${what}: this user has a certificate per device; add --device with one of: ${devices.join(", ")}`);
    }
    throw new UsageError(`${what}: no such IKEv2 certificate in the stack's CA; certificates (NAME or NAME.DEVICE): ${list}`);
}

/** A word for PowerShell: single quotes take everything literally but a quote, which is doubled. */
function ps(word: string): string {
    return `'${word.replace(/'/g, "''")}'`;
}

/** A word for a POSIX shell. */
function sh(word: string): string {
    return /^[A-Za-z0-9_./@:=+-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

/** The npm run client command that gets a user's file. */
function clientCommand(name: string, format: Format, out?: string): string {
    return `npm run client -- --user ${sh(name)} --format ${format}${out ? ` --out ${sh(out)}` : ""}`;
}

function windowsSteps(state: PkiState, name: string): string {
    const address = state.server.address;
    const connection = `VPN ${address}`;
    return `IKEv2 VPN for ${name} on Windows 10/11 (gateway ${address})
1. On the machine that deploys the stack, write the certificate file and copy it to the Windows machine:
     ${clientCommand(name, "p12", `${name}.p12`)}
2. In an administrator PowerShell on the Windows machine, import the certificate, its key and the CA
   into the computer's store (the key cannot be exported again):
     certutil -f -p ${ps(p12Password(state, name))} -importpfx ${ps(`${name}.p12`)} NoExport
3. Add the connection (certificate authentication):
     Add-VpnConnection -Name ${ps(connection)} -ServerAddress ${ps(address)} -TunnelType IKEv2 -AuthenticationMethod MachineCertificate -EncryptionLevel Required -PassThru
4. Use what the gateway accepts (Windows' own default proposes DH group 2, which it refuses):
     Set-VpnConnectionIPsecConfiguration -ConnectionName ${ps(connection)} -AuthenticationTransformConstants GCMAES128 -CipherTransformConstants GCMAES128 -EncryptionMethod GCMAES128 -IntegrityCheckMethod SHA256 -DHGroup Group14 -PfsGroup None -Force
5. Connect: Settings > Network & internet > VPN > ${connection} > Connect (or: rasdial ${ps(connection)}).
`;
}

function androidSteps(state: PkiState, name: string): string {
    const address = state.server.address;
    return `IKEv2 VPN for ${name} on Android (gateway ${address})
Built-in client (Android 12 and later):
1. On the machine that deploys the stack, write the files and copy them to the phone:
     ${clientCommand(name, "p12", `${name}.p12`)}
     ${clientCommand(name, "ca", "ca.crt")}
     ${clientCommand(name, "p12-password")}
2. Settings > Security > Encryption & credentials > Install a certificate > CA certificate: ca.crt.
3. Settings > Security > Encryption & credentials > Install a certificate > VPN & app user certificate:
   ${name}.p12, with the password from step 1.
4. Settings > Network & internet > VPN > + (add):
     Type: IKEv2/IPSec RSA
     Server address: ${address}
     IPSec identifier: ${name}
     IPSec user certificate: ${name} (installed in step 3)
     IPSec CA certificate: the CA installed in step 2 (not "Don't verify server": that accepts any server)
     IPSec server certificate: (received from server)
strongSwan app (any Android version) instead:
1. ${clientCommand(name, "sswan", `${name}.sswan`)}
2. Open ${name}.sswan on the phone with the strongSwan VPN Client app (Import VPN profile); it asks for
   the certificate's password (${clientCommand(name, "p12-password")}).
`;
}

function networkManagerSteps(state: PkiState, name: string): string {
    const address = state.server.address;
    const connection = `VPN ${address}`;
    const password = p12Password(state, name);
    const data = [
        `address=${address}`,
        `certificate=$PWD/ca.pem`,
        `method=key`,
        `usercert=$PWD/${name}.crt`,
        `userkey=$PWD/${name}.key`,
        `virtual=yes`,
        `proposal=yes`,
        `ike=${STRONGSWAN_IKE_PROPOSAL}`,
        `esp=${STRONGSWAN_ESP_PROPOSAL}`,
    ].join(", ");
    return `IKEv2 VPN for ${name} on Linux with NetworkManager (gateway ${address})
1. Install the strongSwan plugin: NetworkManager-strongswan (Debian/Ubuntu: network-manager-strongswan;
   Fedora: NetworkManager-strongswan; the GNOME/KDE one for a settings dialog).
2. In the directory that will keep the files (the key stays there, readable by you only):
     ${clientCommand(name, "p12", `${name}.p12`)}
     ${clientCommand(name, "ca", "ca.pem")}
     openssl pkcs12 -in ${sh(`${name}.p12`)} -passin ${sh(`pass:${password}`)} -clcerts -nokeys -out ${sh(`${name}.crt`)}
     (umask 077; openssl pkcs12 -in ${sh(`${name}.p12`)} -passin ${sh(`pass:${password}`)} -nocerts -nodes -out ${sh(`${name}.key`)})
3. Add and start the connection:
     nmcli connection add type vpn vpn-type strongswan con-name ${sh(connection)} vpn.data "${data}"
     nmcli connection up ${sh(connection)}
`;
}

/** The format's bytes (text formats end in a newline). */
export function render(state: PkiState, name: string, format: Format): string | Buffer {
    switch (format) {
        case "mobileconfig":
            return appleMobileconfig(state, name);
        case "sswan":
            return strongswanProfile(state, name);
        case "p12":
            return userP12(state, name);
        case "p12-password":
            return `${p12Password(state, name)}\n`;
        case "ca":
            return state.ca.certPem;
        case "windows":
            return windowsSteps(state, name);
        case "android":
            return androidSteps(state, name);
        case "networkmanager":
            return networkManagerSteps(state, name);
    }
}

function main(): number {
    const options = commandLine(parseArgs, USAGE);
    if (options === undefined) return 2;
    if (options === "help") return 0;
    try {
        const state = options.state !== undefined ? parseState(fs.readFileSync(options.state, "utf8"), options.state) : stackState(options.stack);
        const format = options.format as Format;
        const name = certificateName(state, options.user, options.device);
        const content = render(state, name, format);
        if (options.out !== undefined) {
            // Every format but ca holds a secret (a key, its password, or both).
            writePrivate(options.out, content);
            console.error(`wrote ${format} for ${name} to ${options.out}`);
        } else if (Buffer.isBuffer(content) && process.stdout.isTTY) {
            throw new UsageError(`--format ${format} is binary: give --out FILE (or redirect the output to a file)`);
        } else {
            process.stdout.write(content);
        }
        return 0;
    } catch (error) {
        console.error(`error: ${(error as Error).message}`);
        return error instanceof UsageError ? 2 : 1;
    }
}

// Imported by tests for its formats; run as the command.
if (require.main === module) process.exitCode = main();
