// IPsec: Libreswan answering IKEv1 PSK in transport mode for L2TP, with NAT-T.
import { BootComponent, bootFile, plainFile, templateFile } from "./bootFile";
import { parseIpv4 } from "../config/ipv4";
import { ClientPool, Ikev2Settings, OsChoice } from "../config/settings";

/** IKE proposals: AES-256/128 with SHA2 or SHA1 over MODP2048; no 3DES, no modp1024. */
export const IKE_PROPOSALS = "aes256-sha2_256;modp2048,aes128-sha2_256;modp2048,aes256-sha1;modp2048,aes128-sha1;modp2048";
/** ESP proposals: AES-GCM first, then AES-CBC with SHA2 or SHA1 (Windows and Apple clients). */
export const ESP_PROPOSALS = "aes_gcm-null,aes256-sha2_256,aes128-sha2_256,aes256-sha1,aes128-sha1";

/**
 * IKEv2 proposals: what Android (MODP2048 to 4096 or Curve25519, never ECP), Apple (the profile's
 * AES-256-GCM, group 14) and Windows (after the profile's PowerShell: GCM-AES-128, group 14) send.
 */
export const IKEV2_IKE_PROPOSALS =
    "aes_gcm256-sha2_256;modp2048,aes_gcm128-sha2_256;modp2048,aes256-sha2_256;modp2048,aes128-sha2_256;modp2048," +
    "aes_gcm256-sha2_256;dh31,aes256-sha2_256;dh31,aes256-sha2_512;modp3072,aes256-sha2_512;modp4096";
/** IKEv2 child SAs: AES-GCM, then AES-CBC with SHA2 (no PFS: no platform's built-in client asks for it). */
export const IKEV2_ESP_PROPOSALS = "aes_gcm256-null,aes_gcm128-null,aes256-sha2_256,aes128-sha2_256";
/**
 * Seconds between pluto's fetches of the CRL from the users' certificates' distribution point
 * (pki/ledger.ts CRL_URL, a local file): how long a revocation waits to count at most.
 * vpn-gateway-sync's CRL_CHECK_INTERVAL is the same (a test keeps them equal).
 */
export const CRL_CHECK_INTERVAL = 10;
/** The server certificate's nickname in the NSS database (vpn-gateway-sync imports it). */
export const SERVER_CERT_NAME = "vpn-gateway-server";

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

/**
 * What the IPsec part renders from: two settings and the value known only at deploy time. Not the
 * PSK: vpn-gateway-sync writes /etc/ipsec.secrets from the stack's PSK parameter.
 */
export interface IpsecInput {
    /** The client pool, left out of virtual-private so that no client's NAT address can clash with it. */
    clientPool: ClientPool;
    /** IKEv2 clients' pool, also left out of virtual-private. */
    ikev2: Pick<Ikev2Settings, "pool" | "poolRange">;
    /** Pushed to IKEv2 clients (mode config), as pppd pushes them to L2TP clients. */
    dnsServers: string[];
    /** The os the gateway boots: it picks the IKEv1-only line its Libreswan takes. */
    os: OsChoice;
    /** The Elastic IP when the program knows it; otherwise the gateway asks the metadata service at boot. */
    publicIp?: string;
}

export function ipsec(input: IpsecInput): BootComponent {
    const { clientPool, ikev2, dnsServers, os, publicIp } = input;
    if (publicIp !== undefined && parseIpv4(publicIp) === undefined) {
        throw new Error(`public IP ${JSON.stringify(publicIp)} is not an IPv4 address`);
    }
    const files = [
        templateFile("/etc/ipsec.conf", "0644", "ipsec/ipsec.conf.mustache", {
            poolCidr: clientPool.cidr.text,
            ike: IKE_PROPOSALS,
            esp: ESP_PROPOSALS,
            ikev1Only: IKEV1_ONLY[os],
            ikev2PoolCidr: ikev2.pool.text,
            ikev2PoolFirst: ikev2.poolRange.first,
            ikev2PoolLast: ikev2.poolRange.last,
            dnsServers: dnsServers.join(" "),
            serverCertName: SERVER_CERT_NAME,
            crlCheckInterval: CRL_CHECK_INTERVAL,
            ikev2Ike: IKEV2_IKE_PROPOSALS,
            ikev2Esp: IKEV2_ESP_PROPOSALS,
        }),
        templateFile("/usr/local/sbin/vpn-gateway-identity", "0755", "ipsec/vpn-gateway-identity.mustache", { metadataAttempts: 30 }),
        plainFile("/etc/systemd/system/vpn-gateway-identity.service", "0644", "ipsec/vpn-gateway-identity.service"),
        plainFile("/etc/systemd/system/ipsec.service.d/vpn-gateway.conf", "0644", "ipsec/ipsec.service.d/vpn-gateway.conf"),
    ];
    if (publicIp !== undefined) files.push(bootFile(PUBLIC_IP_FILE, "0644", `${publicIp}\n`));
    return {
        // curl asks the metadata service for the public address when the program did not give it;
        // vpn-gateway-sync imports the IKEv2 certificates and CRL with NSS's tools and openssl.
        packages: ["libreswan", "curl", "libnss3-tools", "openssl"],
        files,
        commands: [],
        services: ["vpn-gateway-identity.service", "ipsec.service"],
    };
}
