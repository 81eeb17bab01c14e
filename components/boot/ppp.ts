// PPP: pppd's options for L2TP sessions and the users' CHAP secrets.
import { BootComponent, BootInput, templateFile } from "./bootFile";
import { PPP_SERVER_NAME } from "./l2tp";

export function ppp(input: BootInput): BootComponent {
    const { settings } = input;
    const users = settings.users.map((user) => ({
        name: user.name,
        password: user.password,
        // A single address pins the user (pppd then asks for it); '*' lets xl2tpd's pool decide.
        address: user.ip ?? "*",
    }));
    return {
        packages: ["ppp"],
        files: [
            templateFile("/etc/ppp/options.xl2tpd", "0644", "ppp/options.xl2tpd.mustache", { dnsServers: settings.dnsServers }),
            templateFile("/etc/ppp/chap-secrets", "0600", "ppp/chap-secrets.mustache", { users, serverName: PPP_SERVER_NAME }),
            // One script for both events, so connect and disconnect lines always match.
            templateFile("/etc/ppp/ip-up.d/vpn-gateway-connect", "0755", "ppp/vpn-gateway-connect.mustache"),
            templateFile("/etc/ppp/ip-down.d/vpn-gateway-connect", "0755", "ppp/vpn-gateway-connect.mustache"),
        ],
        commands: [],
        services: [],
    };
}
