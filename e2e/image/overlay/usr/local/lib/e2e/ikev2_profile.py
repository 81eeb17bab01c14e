#!/usr/bin/env python3
"""Test harness (not product): reads a user's Apple .mobileconfig or strongSwan .sswan profile as
the platform does and prints what a strongSwan initiator needs to send the same, one line:
LOCAL_ID REMOTE_ID IKE_PROPOSAL ESP_PROPOSAL P12_PASSWORD; writes the profile's PKCS#12 to P12_OUT.

    ikev2_profile.py apple|sswan PROFILE P12_OUT PASSWORD_FILE

Apple: the com.apple.vpn.managed payload's IKEv2 dictionary (identifiers, IKE and child SA
parameters, PFS off) and the com.apple.security.pkcs12 payload it names (with its Password).
sswan: remote.id (else remote.addr), local.id, ike-proposal, esp-proposal, local.p12; the app asks
for the PKCS#12's password on import: PASSWORD_FILE (NAME.p12.password).
"""
import base64
import json
import plistlib
import sys

ENCRYPTION = {"AES-256-GCM": "aes256gcm16", "AES-128-GCM": "aes128gcm16", "AES-256": "aes256", "AES-128": "aes128", "ChaCha20Poly1305": "chacha20poly1305"}
INTEGRITY = {"SHA2-256": "sha256", "SHA2-384": "sha384", "SHA2-512": "sha512"}
GROUPS = {14: "modp2048", 15: "modp3072", 16: "modp4096", 19: "ecp256", 20: "ecp384", 21: "ecp521", 31: "curve25519"}


def proposal(params: dict, with_group: bool) -> str:
    enc = ENCRYPTION[params["EncryptionAlgorithm"]]
    integ = INTEGRITY[params.get("IntegrityAlgorithm", "SHA2-256")]
    # AEAD: the integrity algorithm is the PRF only
    parts = [enc, f"prf{integ}"] if "gcm" in enc or "chacha" in enc else [enc, integ]
    if with_group:
        parts.append(GROUPS[int(params["DiffieHellmanGroup"])])
    return "-".join(parts if with_group else [p for p in parts if not p.startswith("prf")])


def apple(path: str, p12_out: str) -> list:
    doc = plistlib.loads(open(path, "rb").read())
    payloads = {p["PayloadUUID"]: p for p in doc["PayloadContent"]}
    vpn = next(p for p in doc["PayloadContent"] if p["PayloadType"] == "com.apple.vpn.managed")["IKEv2"]
    assert vpn["AuthenticationMethod"] == "Certificate", vpn["AuthenticationMethod"]
    pkcs12 = payloads[vpn["PayloadCertificateUUID"]]
    assert pkcs12["PayloadType"] == "com.apple.security.pkcs12", pkcs12["PayloadType"]
    open(p12_out, "wb").write(bytes(pkcs12["PayloadContent"]))
    pfs = bool(vpn.get("EnablePFS", 0))
    ike = proposal(vpn["IKESecurityAssociationParameters"], True)
    esp = proposal(vpn["ChildSecurityAssociationParameters"], pfs)
    return [vpn["LocalIdentifier"], vpn["RemoteIdentifier"], ike, esp, pkcs12["Password"]]


def sswan(path: str, p12_out: str, password_file: str) -> list:
    doc = json.load(open(path))
    assert doc["type"] == "ikev2-cert", doc["type"]
    open(p12_out, "wb").write(base64.b64decode(doc["local"]["p12"]))
    remote = doc["remote"]
    return [doc["local"]["id"], remote.get("id", remote["addr"]), doc["ike-proposal"], doc["esp-proposal"], open(password_file).read().strip()]


def main() -> int:
    kind, path, p12_out, password_file = sys.argv[1:5]
    words = apple(path, p12_out) if kind == "apple" else sswan(path, p12_out, password_file)
    for w in words:
        if not w or any(c.isspace() for c in w):
            print(f"a value with blanks or empty: {w!r}")
            return 1
    print(" ".join(words))
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except Exception as e:  # the check reports it
        print(f"{type(e).__name__}: {e}")
        sys.exit(1)
