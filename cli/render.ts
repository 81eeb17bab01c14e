// npm run render -- --config FILE [--out FILE | --out-dir DIR] [--stack NAME] [--region REGION]
//                   [--public-ip ADDRESS] [--server-address ADDRESS] [--vpc-cidr CIDR] [--os OS]
// Prints the cloud-config the gateway would receive, or writes the exact user-data bytes for EC2
// (--out), or those and the stack's SSM parameters (--out-dir: DIR/user-data and
// DIR/ssm-parameters.json, [{"name", "type", "value"}] with the values in plain, what pulumi up
// creates), so that any test bed can serve them.
// With --out-dir, also the stack's IKEv2 CA, kept in DIR/pki-state.json (0600; what `pulumi up`
// keeps in the stack's state: a second render into the same DIR keeps the CA and the certificates,
// and revokes the users removed or marked revoked), the parameters PATH/ikev2/1..N, and per user
// with IKEv2 DIR/clients/NAME/ with NAME.p12, NAME.p12.password, NAME.mobileconfig, NAME.sswan and
// ca.pem. The server certificate is for --server-address, else --public-ip, else DEFAULT_SERVER_ADDRESS.
// --stack names the parameter path (/vpn-gateway/<stack>; default: from a Pulumi.<stack>.yaml file
// name, else dev), --region the region in sync.json (default: the file's aws:region, else us-east-1). --os renders for that
// os instead of the stack's vpn-gateway:os (the VM suite boots one stack on both Debian releases).
import * as fs from "fs";
import * as path from "path";
import { cloudConfig, gatewayParameters, userDataBytes } from "../components/boot/cloudConfig";
import { parameterPath } from "../components/boot/parameters";
import { REGION_PATTERN } from "../components/boot/sync";
import { ConfigError, checkPoolAgainstVpc, parseSettings } from "../components/config/settings";
import { awsRegionFromStackFile, rawConfigFromStackFile } from "../components/config/stackFile";
import { parseIpv4 } from "../components/config/ipv4";
import { PkiState, reconcilePki } from "../components/pki/ledger";
import { gatewayPki, ikev2PieceCount } from "../components/pki/parameters";
import { appleMobileconfig, p12Password, strongswanProfile, userP12 } from "../components/pki/profiles";
import { commandLine, writePrivate } from "./common";

const USAGE =
    "usage: npm run render -- --config FILE [--out FILE | --out-dir DIR] [--stack NAME] [--region REGION] [--public-ip ADDRESS] [--server-address ADDRESS] [--vpc-cidr CIDR] [--os OS]";
const FLAGS = ["--config", "--out", "--out-dir", "--stack", "--region", "--public-ip", "--server-address", "--vpc-cidr", "--os"];

function parseArgs(argv: string[]): Record<string, string> {
    const options: Record<string, string> = {};
    for (let i = 0; i < argv.length; i += 2) {
        const [flag, value] = [argv[i], argv[i + 1]];
        if (!FLAGS.includes(flag) || value === undefined) {
            throw new Error(`unexpected argument ${JSON.stringify(flag)}\n${USAGE}`);
        }
        options[flag.slice(2)] = value;
    }
    if (!options.config) throw new Error(`--config is required\n${USAGE}`);
    if (options.out !== undefined && options["out-dir"] !== undefined) throw new Error(`--out and --out-dir: give one\n${USAGE}`);
    return options;
}

/** Used when neither a flag nor the config file says: a local render needs no deployed stack. */
export const DEFAULT_STACK = "dev";
export const DEFAULT_REGION = "us-east-1";
/**
 * The address the IKEv2 server certificate names when neither --server-address nor --public-ip
 * gives the one clients dial: the test bed's Elastic IP (a documentation address, RFC 5737).
 */
export const DEFAULT_SERVER_ADDRESS = "203.0.113.10";
export const PKI_STATE_FILE = "pki-state.json";

/** The stack's name: --stack, or the NAME of a Pulumi.NAME.yaml config file, else DEFAULT_STACK (said on stderr). */
function stackName(options: Record<string, string>): string {
    if (options.stack !== undefined) return options.stack;
    const match = /^Pulumi\.(.+)\.ya?ml$/.exec(path.basename(options.config));
    if (match) return match[1];
    console.error(
        `render: stack "${DEFAULT_STACK}" (parameters under /vpn-gateway/${DEFAULT_STACK}), as ${JSON.stringify(path.basename(options.config))} ` +
            `is not named Pulumi.<stack>.yaml; --stack NAME renders another`,
    );
    return DEFAULT_STACK;
}

/** The region: --region, or the file's aws:region, else DEFAULT_REGION (said on stderr). */
function region(options: Record<string, string>, text: string): string {
    const fromFile = awsRegionFromStackFile(text);
    const value = options.region ?? fromFile;
    const setting = options.region !== undefined ? "--region" : "aws:region";
    if (value === undefined) {
        console.error(`render: region ${DEFAULT_REGION}, as ${options.config} sets no aws:region; --region REGION renders another`);
        return DEFAULT_REGION;
    }
    if (!REGION_PATTERN.test(value)) throw new ConfigError([`${setting}: ${JSON.stringify(value)} is not an AWS region like eu-west-1`]);
    return value;
}

async function main(): Promise<number> {
    const options = commandLine(parseArgs, USAGE);
    if (options === undefined) return 2;
    if (options === "help") return 0;
    try {
        const text = fs.readFileSync(options.config, "utf8");
        const raw = rawConfigFromStackFile(text, options.config);
        // validated like the stack's own value: an unknown os is refused with the allowed ones
        if (options.os !== undefined) raw.os = options.os;
        const settings = parseSettings(raw);
        const parameters = { parameterPath: parameterPath(stackName(options)), region: region(options, text) };
        const publicIp = options["public-ip"];
        if (publicIp !== undefined && parseIpv4(publicIp) === undefined) {
            throw new ConfigError([`--public-ip: ${JSON.stringify(publicIp)} is not an IPv4 address`]);
        }
        if (options["server-address"] !== undefined && options["out-dir"] === undefined) {
            throw new ConfigError(["--server-address: only with --out-dir (it names the address in the IKEv2 certificates and profiles written there)"]);
        }
        if (options["vpc-cidr"]) checkPoolAgainstVpc(settings.clientPool, [options["vpc-cidr"]], settings.ikev2.pool);
        const document = cloudConfig({ settings, ...parameters, ...(publicIp ? { publicIp } : {}) });
        const outDir = options["out-dir"];
        if (outDir !== undefined) {
            if (settings.psk === undefined) {
                throw new ConfigError(["vpn-gateway:psk: required for ssm-parameters.json (pulumi up generates one; a local render needs it written)"]);
            }
            const serverAddress = options["server-address"] ?? publicIp;
            if (serverAddress !== undefined && parseIpv4(serverAddress) === undefined) {
                throw new ConfigError([`--server-address: ${JSON.stringify(serverAddress)} is not an IPv4 address`]);
            }
            if (serverAddress === undefined) {
                console.error(
                    `render: IKEv2 server certificate for ${DEFAULT_SERVER_ADDRESS} (the test bed's address), as neither --server-address nor --public-ip ` +
                        `gives the address clients dial`,
                );
            }
            const bytes = userDataBytes(document);
            fs.mkdirSync(outDir, { recursive: true, mode: 0o700 });
            const stateFile = path.join(outDir, PKI_STATE_FILE);
            const previous = fs.existsSync(stateFile) ? (JSON.parse(fs.readFileSync(stateFile, "utf8")) as PkiState) : undefined;
            const pki = await reconcilePki(previous, {
                caName: `vpn-gateway ${stackName(options)} CA`,
                address: serverAddress ?? DEFAULT_SERVER_ADDRESS,
                users: settings.ikev2.users,
                now: new Date(),
            });
            const ssm = gatewayParameters({
                parameterPath: parameters.parameterPath,
                psk: settings.psk,
                users: settings.users,
                ikev2: { material: await gatewayPki(pki), pieces: ikev2PieceCount(settings.ikev2.users) },
            });
            writePrivate(path.join(outDir, "user-data"), bytes);
            writePrivate(path.join(outDir, "ssm-parameters.json"), `${JSON.stringify(ssm, null, 1)}\n`);
            writePrivate(stateFile, `${JSON.stringify(pki, null, 1)}\n`);
            const clients = writeClients(outDir, pki);
            console.error(
                `wrote ${bytes.length} bytes of user-data and ${ssm.length} SSM parameters under ${parameters.parameterPath} to ${outDir}, ` +
                    `IKEv2 profiles for ${clients} certificates to ${path.join(outDir, "clients")} (${pki.revoked.length} certificates revoked)`,
            );
        } else if (options.out) {
            const bytes = userDataBytes(document);
            writePrivate(options.out, bytes);
            console.error(`wrote ${bytes.length} bytes of user-data to ${options.out}`);
        } else {
            userDataBytes(document); // the same size check as pulumi up
            process.stdout.write(document);
        }
        return 0;
    } catch (error) {
        console.error(`error: ${(error as Error).message}`);
        return 1;
    }
}

/**
 * DIR/clients/NAME/ for each certificate (NAME: the user, or NAME.DEVICE with users[N].devices): what a person imports, and what any test
 * bed dials in with. Written anew: a revoked or removed user's directory goes.
 */
function writeClients(outDir: string, pki: PkiState): number {
    const root = path.join(outDir, "clients");
    fs.rmSync(root, { recursive: true, force: true });
    const names = Object.keys(pki.users).sort();
    for (const name of names) {
        const dir = path.join(root, name);
        fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
        writePrivate(path.join(dir, `${name}.p12`), userP12(pki, name));
        writePrivate(path.join(dir, `${name}.p12.password`), `${p12Password(pki, name)}\n`);
        writePrivate(path.join(dir, `${name}.mobileconfig`), appleMobileconfig(pki, name));
        writePrivate(path.join(dir, `${name}.sswan`), strongswanProfile(pki, name));
        fs.writeFileSync(path.join(dir, "ca.pem"), pki.ca.certPem);
    }
    return names.length;
}

main().then((code) => {
    process.exitCode = code;
});
