// L2TP: xl2tpd as the LNS, handing each client a pool address and pppd the CHAP exchange.
import { ClientPool } from "../config/settings";
import { BootComponent, plainFile, templateFile } from "./bootFile";

/** The server name in chap-secrets and the LNS's own name: they must agree. */
export const PPP_SERVER_NAME = "l2tpd";

/** The setting the L2TP part renders from: the validated Settings field of this name. */
export interface L2tpInput {
    /** The client pool: the gateway's own PPP address and the ranges xl2tpd hands out. */
    clientPool: ClientPool;
}

export function l2tp(input: L2tpInput): BootComponent {
    const pool = input.clientPool;
    return {
        packages: ["xl2tpd"],
        files: [
            templateFile("/etc/xl2tpd/xl2tpd.conf", "0644", "l2tp/xl2tpd.conf.mustache", {
                dynamicRanges: pool.dynamicRanges,
                gatewayAddress: pool.gatewayAddress,
                serverName: PPP_SERVER_NAME,
            }),
            // Debian's xl2tpd has only an init script; its generated unit cannot restart a dead
            // daemon (no main PID). A native unit of the same name takes its place.
            plainFile("/etc/systemd/system/xl2tpd.service", "0644", "l2tp/xl2tpd.service"),
        ],
        commands: [],
        services: ["xl2tpd.service"],
    };
}
