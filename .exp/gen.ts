import * as fs from "fs";
import { reconcilePki } from "/work/main/components/pki/ledger";
import { crlPem } from "/work/main/components/pki/crl";
import { userP12, p12Password } from "/work/main/components/pki/profiles";
(async () => {
  const users = [{ name: "alice", reissue: 0, revoked: false }, { name: "bob", reissue: 0, revoked: false }];
  let s = await reconcilePki(undefined, { caName: "vpn-gateway exp CA", address: "203.0.113.10", users, now: new Date() });
  fs.writeFileSync("/tmp/exp/state1.json", JSON.stringify(s));
  fs.writeFileSync("/tmp/exp/ca.pem", s.ca.certPem);
  fs.writeFileSync("/tmp/exp/server.pem", s.server.certPem);
  fs.writeFileSync("/tmp/exp/server.key", s.server.keyPem);
  fs.writeFileSync("/tmp/exp/crl1.pem", await crlPem(s));
  for (const u of ["alice", "bob"]) { fs.writeFileSync(`/tmp/exp/${u}.p12`, userP12(s, u)); fs.writeFileSync(`/tmp/exp/${u}.pw`, p12Password(s, u)); fs.writeFileSync(`/tmp/exp/${u}.pem`, s.users[u].certPem); fs.writeFileSync(`/tmp/exp/${u}.key`, s.users[u].keyPem); }
  const s2 = await reconcilePki(s, { caName: "vpn-gateway exp CA", address: "203.0.113.10", users: [users[0], { ...users[1], revoked: true }], now: new Date(Date.now() + 5000) });
  fs.writeFileSync("/tmp/exp/crl2.pem", await crlPem(s2));
  console.log("ok", s2.revoked);
})();
