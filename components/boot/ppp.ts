// PPP: pppd's options for L2TP sessions and the users' CHAP secrets.
import { BootComponent, BootInput, bootFile, renderTemplate } from "./bootFile";
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
            bootFile("/etc/ppp/options.xl2tpd", "0644", renderTemplate("options.xl2tpd", { dnsServers: settings.dnsServers })),
            bootFile("/etc/ppp/chap-secrets", "0600", renderTemplate("chap-secrets", { users, serverName: PPP_SERVER_NAME })),
            // One script for both events, so connect and disconnect lines always match.
            bootFile("/etc/ppp/ip-up.d/vpn-gateway-connect", "0755", renderTemplate("vpn-gateway-connect", {})),
            bootFile("/etc/ppp/ip-down.d/vpn-gateway-connect", "0755", renderTemplate("vpn-gateway-connect", {})),
        ],
        commands: [],
        services: [],
    };
}
