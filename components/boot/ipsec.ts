// IPsec: Libreswan answering IKEv1 PSK in transport mode for L2TP, with NAT-T.
import { BootComponent, BootInput, bootFile, templateFile } from "./bootFile";
import { parseIpv4 } from "../config/ipv4";
import { OsChoice } from "../config/settings";

/** IKE proposals: AES-256/128 with SHA2 or SHA1 over MODP2048; no 3DES, no modp1024. */
export const IKE_PROPOSALS = "aes256-sha2_256;modp2048,aes128-sha2_256;modp2048,aes256-sha1;modp2048,aes128-sha1;modp2048";
/** ESP proposals: AES-GCM first, then AES-CBC with SHA2 or SHA1 (Windows and Apple clients). */
export const ESP_PROPOSALS = "aes_gcm-null,aes256-sha2_256,aes128-sha2_256,aes256-sha1,aes128-sha1";

/**
 * The one ipsec.conf line that cannot be the same on every os: a conn for IKEv1 only. Libreswan
 * 4.x (Ubuntu 24.04: 4.14, Debian 12: 4.10) knows `ikev2=no` and refuses `keyexchange=ikev1`;
 * 5.x (Ubuntu 26.04, Debian 13: 5.2) takes `ikev2=no` but logs it as replaced by `keyexchange=ikev1`.
 */
export const IKEV1_ONLY: Record<OsChoice, string> = {
    "ubuntu-24.04": "ikev2=no",
    "debian-12": "ikev2=no",
    "ubuntu-26.04": "keyexchange=ikev1",
    "debian-13": "keyexchange=ikev1",
};

export const PUBLIC_IP_FILE = "/etc/vpn-gateway/public-ip";

export function ipsec(input: BootInput): BootComponent {
    const { settings, psk, publicIp } = input;
    if (publicIp !== undefined && parseIpv4(publicIp) === undefined) {
        throw new Error(`public IP ${JSON.stringify(publicIp)} is not an IPv4 address`);
    }
    const files = [
        templateFile("/etc/ipsec.conf", "0644", "ipsec/ipsec.conf.mustache", {
            poolCidr: settings.clientPool.cidr.text,
            ike: IKE_PROPOSALS,
            esp: ESP_PROPOSALS,
            ikev1Only: IKEV1_ONLY[settings.os],
        }),
        templateFile("/etc/ipsec.secrets", "0600", "ipsec/ipsec.secrets.mustache", { psk }),
        templateFile("/usr/local/sbin/vpn-gateway-identity", "0755", "ipsec/vpn-gateway-identity.mustache", { metadataAttempts: 30 }),
        templateFile("/etc/systemd/system/vpn-gateway-identity.service", "0644", "ipsec/vpn-gateway-identity.service.mustache"),
        templateFile("/etc/systemd/system/ipsec.service.d/vpn-gateway.conf", "0644", "ipsec/ipsec.service.d/vpn-gateway.conf.mustache"),
    ];
    if (publicIp !== undefined) files.push(bootFile(PUBLIC_IP_FILE, "0644", `${publicIp}\n`));
    return {
        // curl asks the metadata service for the public address when the program did not give it.
        packages: ["libreswan", "curl"],
        files,
        commands: [],
        services: ["vpn-gateway-identity.service", "ipsec.service"],
    };
}
