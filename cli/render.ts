// npm run render -- --config FILE [--out FILE] [--public-ip ADDRESS] [--vpc-cidr CIDR] [--os OS]
// Prints the cloud-config the gateway would receive, or writes the exact user-data bytes for EC2.
// --os renders for that os instead of the stack's vpn-gateway:os (the VM suite boots one stack on
// both Debian releases).
import * as fs from "fs";
import { cloudConfig, userDataBytes } from "../components/boot/cloudConfig";
import { ConfigError, checkPoolAgainstVpc, parseSettings } from "../components/config/settings";
import { rawConfigFromStackFile } from "../components/config/stackFile";
import { parseIpv4 } from "../components/config/ipv4";

const USAGE = "usage: npm run render -- --config FILE [--out FILE] [--public-ip ADDRESS] [--vpc-cidr CIDR] [--os OS]";

function parseArgs(argv: string[]): Record<string, string> {
    const options: Record<string, string> = {};
    for (let i = 0; i < argv.length; i += 2) {
        const [flag, value] = [argv[i], argv[i + 1]];
        if (!["--config", "--out", "--public-ip", "--vpc-cidr", "--os"].includes(flag) || value === undefined) {
            throw new Error(`unexpected argument ${JSON.stringify(flag)}\n${USAGE}`);
        }
        options[flag.slice(2)] = value;
    }
    if (!options.config) throw new Error(`--config is required\n${USAGE}`);
    return options;
}

function main(): number {
    let options: Record<string, string>;
    try {
        options = parseArgs(process.argv.slice(2));
    } catch (error) {
        console.error((error as Error).message);
        return 2;
    }
    try {
        const text = fs.readFileSync(options.config, "utf8");
        const raw = rawConfigFromStackFile(text, options.config);
        // validated like the stack's own value: an unknown os is refused with the allowed ones
        if (options.os !== undefined) raw.os = options.os;
        const settings = parseSettings(raw);
        if (settings.psk === undefined) {
            throw new ConfigError(["vpn-gateway:psk: required here (pulumi up generates one; a local render needs it written)"]);
        }
        const publicIp = options["public-ip"];
        if (publicIp !== undefined && parseIpv4(publicIp) === undefined) {
            throw new ConfigError([`--public-ip: ${JSON.stringify(publicIp)} is not an IPv4 address`]);
        }
        if (options["vpc-cidr"]) checkPoolAgainstVpc(settings.clientPool, [options["vpc-cidr"]]);
        const document = cloudConfig({ settings, psk: settings.psk, ...(publicIp ? { publicIp } : {}) });
        if (options.out) {
            const bytes = userDataBytes(document);
            fs.writeFileSync(options.out, bytes, { mode: 0o600 });
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

process.exitCode = main();
