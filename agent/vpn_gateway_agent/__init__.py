"""vpn-gateway-sync: keeps the gateway's users and PSK in step with SSM Parameter Store.

Installed as /usr/local/sbin/vpn-gateway-sync by vpn-gateway's user-data. Reads PATH/psk and
PATH/users/<shard> (SecureString parameters, PATH from /etc/vpn-gateway/sync.json; PATH/program/*
holds this program's own release, read by vpn-gateway-sync-install at the first boot), checks them
with the rules the Pulumi program applies to its stack config, and writes /etc/ppp/chap-secrets
and /etc/ipsec.secrets. PATH/ikev2/1..N (the gzip+base64 JSON of the IKEv2 CA certificate, the
server certificate and key, the CRL and the revoked certificates) goes into Libreswan's NSS
database; a revoked user's IKEv2 sessions are ended. pppd reads chap-secrets at every authentication and pluto is told to
re-read its secrets, so nobody is disconnected except the users who were removed or whose
password or static address changed: their pppd processes are ended, every device of theirs and
nobody else's (for LATE_SESSION_WINDOW seconds after the change also those that authenticated
with the old password just before it and came up just after the scan: see end_late_sessions).

    vpn-gateway-sync boot   at every boot, before ipsec and xl2tpd start (waits for SSM, bounded,
                            then falls back to the last good configuration kept on disk)
    vpn-gateway-sync once   one poll, every 30 seconds from a systemd timer

A bad parameter refuses the whole update (each problem logged once, naming the parameter and the
field, never a secret) and the last good configuration stays applied. Polling lists versions only
(no decryption); only new or changed versions are decrypted, each at most once.

Python 3.11+ standard library and the distribution's python3-boto3 (botocore 1.29 and later).
"""
