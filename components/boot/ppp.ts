// PPP: pppd's options for L2TP sessions and the users' CHAP secrets.
import { VpnUser } from "../config/settings";
import { BootComponent, templateFile } from "./bootFile";
import { PPP_SERVER_NAME } from "./l2tp";

/** The settings the PPP part renders from: the validated Settings fields of these names. */
export interface PppInput {
    /** The users, one chap-secrets line each, passwords in plain. */
    users: VpnUser[];
    /** The DNS servers pppd pushes to clients (one or two). */
    dnsServers: string[];
}

export function ppp(input: PppInput): BootComponent {
    const users = input.users.map((user) => ({
        name: user.name,
        password: user.password,
        // A single address pins the user (pppd then asks for it); '*' lets xl2tpd's pool decide.
        address: user.ip ?? "*",
    }));
    return {
        packages: ["ppp"],
        files: [
            templateFile("/etc/ppp/options.xl2tpd", "0644", "ppp/options.xl2tpd.mustache", { dnsServers: input.dnsServers }),
            templateFile("/etc/ppp/chap-secrets", "0600", "ppp/chap-secrets.mustache", { users, serverName: PPP_SERVER_NAME }),
            // One script for both events, so connect and disconnect lines always match.
            templateFile("/etc/ppp/ip-up.d/vpn-gateway-connect", "0755", "ppp/vpn-gateway-connect.mustache"),
            templateFile("/etc/ppp/ip-down.d/vpn-gateway-connect", "0755", "ppp/vpn-gateway-connect.mustache"),
        ],
        commands: [],
        services: [],
    };
}
