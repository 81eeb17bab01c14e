// PPP: pppd's options for L2TP sessions, and the hooks that log and record each session. The
// users' CHAP secrets are not here: vpn-gateway-sync writes /etc/ppp/chap-secrets from the stack's
// users parameters (pppd reads it at every authentication).
import { BootComponent, plainFile, templateFile } from "./bootFile";

/** The setting the PPP part renders from: the validated Settings field of this name. */
export interface PppInput {
    /** The DNS servers pppd pushes to clients (one or two). */
    dnsServers: string[];
}

export function ppp(input: PppInput): BootComponent {
    return {
        packages: ["ppp"],
        files: [
            templateFile("/etc/ppp/options.xl2tpd", "0644", "ppp/options.xl2tpd.mustache", { dnsServers: input.dnsServers }),
            // One script for both events, so connect and disconnect lines always match.
            plainFile("/etc/ppp/ip-up.d/vpn-gateway-connect", "0755", "ppp/vpn-gateway-connect"),
            plainFile("/etc/ppp/ip-down.d/vpn-gateway-connect", "0755", "ppp/vpn-gateway-connect"),
            // Which pppd serves which user: vpn-gateway-sync ends a removed user's sessions, and nobody else's.
            plainFile("/etc/ppp/ip-up.d/vpn-gateway-session", "0755", "ppp/vpn-gateway-session"),
            plainFile("/etc/ppp/ip-down.d/vpn-gateway-session", "0755", "ppp/vpn-gateway-session"),
        ],
        commands: [],
        services: [],
    };
}
