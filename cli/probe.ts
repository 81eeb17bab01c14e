// npm run probe -- --host ADDRESS [--port 500] [--timeout SECONDS] [--interval SECONDS]
// Waits until the gateway answers IKE on UDP 500; prints one JSON line with the verdict and the
// time it took. Exit 0 when ready, 1 when not within the timeout, 2 on bad usage.
import { probe } from "../components/health/ikeProbe";
import { parseIpv4 } from "../components/config/ipv4";
import { wantsHelp } from "./common";

const USAGE = "usage: npm run probe -- --host ADDRESS [--port 500] [--timeout SECONDS] [--interval SECONDS]";

async function main(): Promise<number> {
    const args = process.argv.slice(2);
    if (wantsHelp(args)) {
        console.log(USAGE);
        return 0;
    }
    const options: Record<string, string> = {};
    for (let i = 0; i < args.length; i += 2) options[args[i].replace(/^--/, "")] = args[i + 1];
    const host = options.host;
    const port = Number(options.port ?? 500);
    const timeoutSeconds = Number(options.timeout ?? 600);
    const intervalSeconds = Number(options.interval ?? 5);
    const unknown = Object.keys(options).filter((k) => !["host", "port", "timeout", "interval"].includes(k));
    if (!host || parseIpv4(host) === undefined || unknown.length > 0 || !(port > 0 && port < 65536) || !(timeoutSeconds > 0) || !(intervalSeconds > 0)) {
        console.error(USAGE);
        return 2;
    }
    const result = await probe({
        host,
        port,
        timeoutSeconds,
        intervalSeconds,
        onAttempt: (attempt, elapsed) => console.error(`probe: IKE request ${attempt} to ${host}:${port} at ${elapsed} s`),
    });
    console.log(JSON.stringify(result));
    return result.ready ? 0 : 1;
}

main().then((code) => (process.exitCode = code));
