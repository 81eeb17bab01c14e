#!/usr/bin/env python3
"""Test bed: the live checks' changes to a stack's users in the SSM stand-in, in the product's layout.

Must run in the `aws` network namespace (live.sh runs it with `ip netns exec aws`); talks to the
stand-in's admin listener through ssm_admin.py (no signature; SSM's limits apply).

The layout is the one components/boot/parameters.ts writes and the gateway's sync reads:
PATH/users/<bb> holds the users whose name's SHA-256 starts with the byte bb, as compact JSON
{"format":1,"users":[{"name","password","ip"?},...]} sorted by name; only buckets that hold a
user exist. A bucket too large for one parameter (the program splits it into <bb>-2, ...) is
not something these few test users make: it is refused here rather than written another way.

  ssm_users.py --region R --path P set NAME PASSWORD [IP]   add the user, or change its password/ip
  ssm_users.py --region R --path P remove NAME              (the bucket goes with its last user)
  ssm_users.py --region R --path P append-raw NAME TEXT     TEXT (any text) appended as one more
                                                            record to NAME's bucket: what a person
                                                            editing the value by hand may write
  ssm_users.py --region R --path P bucket NAME              the parameter that holds NAME
  ssm_users.py --region R --path P snapshot FILE            every PATH/users/* as [{name,type,value}]
  ssm_users.py --region R --path P replace FILE             PATH/users/* becomes exactly FILE's users
                                                            parameters: changed and new ones put
                                                            first, then the others deleted
Prints what it did (parameter names and counts, never a value). Standard library only.
"""
import argparse
import hashlib
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ssm_admin  # noqa: E402  (the stand-in's admin client, next to this file)

LIMIT = 4096  # SSM's standard tier


def bucket_of(path, name):
    return "%s/users/%s" % (path, hashlib.sha256(name.encode("utf-8")).hexdigest()[:2])


def compact(doc):
    # JSON.stringify's form: no spaces; non-ASCII kept as is
    return json.dumps(doc, separators=(",", ":"), ensure_ascii=False)


def get_value(region, name):
    try:
        return ssm_admin.call(region, "GetParameter", {"Name": name, "WithDecryption": True})["Parameter"]["Value"]
    except ssm_admin.SsmError as e:
        if "ParameterNotFound" in str(e):
            return None
        raise


def users_parameters(region, path):
    names = [p["Name"] for p in ssm_admin.list_parameters(region, path + "/users")]
    return sorted(n for n in names if n.startswith(path + "/users/"))


def write_bucket(region, name, records):
    """records: JSON texts of the users, sorted by name; an empty list deletes the bucket."""
    if not records:
        ssm_admin.call(region, "DeleteParameter", {"Name": name})
        print("%s deleted (no user left in it)" % name)
        return
    value = '{"format":1,"users":[' + ",".join(records) + "]}"
    if len(value) > LIMIT:
        raise ssm_admin.SsmError("%s would be %d characters: the product would split the bucket; not done here" % (name, len(value)))
    doc = ssm_admin.put(region, name, "SecureString", value)
    print("%s version %s (%d users)" % (name, doc.get("Version"), len(records)))


def records_of(region, name):
    value = get_value(region, name)
    if value is None:
        return []
    return [compact(u) for u in json.loads(value)["users"]]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--region", required=True)
    ap.add_argument("--path", required=True)
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("set")
    p.add_argument("name")
    p.add_argument("password")
    p.add_argument("ip", nargs="?")
    p = sub.add_parser("remove")
    p.add_argument("name")
    p = sub.add_parser("append-raw")
    p.add_argument("name")
    p.add_argument("text")
    p = sub.add_parser("bucket")
    p.add_argument("name")
    p = sub.add_parser("snapshot")
    p.add_argument("file")
    p = sub.add_parser("replace")
    p.add_argument("file")
    a = ap.parse_args()
    region, path = a.region, a.path
    try:
        if a.cmd == "bucket":
            print(bucket_of(path, a.name))
            return 0
        if a.cmd in ("set", "remove", "append-raw"):
            name = bucket_of(path, a.name)
            if any(n.startswith(name + "-") for n in users_parameters(region, path)):
                raise ssm_admin.SsmError("%s is split into several parameters; these helpers edit single buckets only" % name)
            records = records_of(region, name)
            others = [r for r in records if json.loads(r)["name"] != a.name]
            if a.cmd == "set":
                record = {"name": a.name, "password": a.password}
                if a.ip:
                    record["ip"] = a.ip
                records = sorted(others + [compact(record)], key=lambda r: json.loads(r)["name"])
                write_bucket(region, name, records)
            elif a.cmd == "remove":
                if len(others) == len(records):
                    raise ssm_admin.SsmError("%s holds no user of that name" % name)
                write_bucket(region, name, others)
            else:
                # not parsed, not sorted: the text as typed, after the bucket's good records
                value = '{"format":1,"users":[' + ",".join(records + [a.text]) + "]}"
                doc = ssm_admin.put(region, name, "SecureString", value)
                print("%s version %s (%d users and one record written by hand)" % (name, doc.get("Version"), len(records)))
        elif a.cmd == "snapshot":
            items = [{"name": n, "type": "SecureString", "value": get_value(region, n)} for n in users_parameters(region, path)]
            fd = os.open(a.file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w") as f:
                json.dump(items, f)
            print("%d users parameters saved" % len(items))
        elif a.cmd == "replace":
            with open(a.file) as f:
                items = json.load(f)
            wanted = {i["name"]: i["value"] for i in items}
            if not all(n.startswith(path + "/users/") for n in wanted):
                raise ssm_admin.SsmError("%s: every parameter must be under %s/users/" % (a.file, path))
            present = users_parameters(region, path)
            put = 0
            for n in sorted(wanted):
                if n not in present or get_value(region, n) != wanted[n]:
                    ssm_admin.put(region, n, "SecureString", wanted[n])
                    put += 1
            gone = [n for n in present if n not in wanted]
            for n in gone:
                ssm_admin.call(region, "DeleteParameter", {"Name": n})
            users = sum(len(json.loads(v)["users"]) for v in wanted.values())
            print("%d users parameters put, %d deleted: %d parameters, %d users" % (put, len(gone), len(wanted), users))
    except (ssm_admin.SsmError, OSError, ValueError, KeyError) as e:
        print("ssm_users: %s" % e, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
