"""SSM Parameter Store (ssm.py): paging, decryption in batches, the client."""

from __future__ import annotations

import os
import unittest
from unittest import mock

from support import PSK, REGION, World, user
from vpn_gateway_agent.ssm import make_client


class SsmTest(unittest.TestCase):
    """Listing and decrypting against a stubbed SSM (botocore's Stubber checks every request)."""

    def setUp(self) -> None:
        self.world = World(self)

    def test_pages_short_and_empty_with_tokens(self) -> None:
        w = self.world
        w.put("psk", PSK)
        w.put_users("a", user("alice", "Pw-alice-7Qx9"))
        w.put_users("b", user("bob", "Pw-bob-3Kd2"))
        # An empty first page with a token, a short one, another empty one, then the last.
        status = w.poll(pages=[[], ["psk"], [], ["users/a", "users/b"]], decrypt=["psk", "users/a", "users/b"])
        self.assertEqual(status, 0, w.logs.text)
        self.assertIn('"alice"\tl2tpd\t"Pw-alice-7Qx9"\t*', w.chap())
        self.assertIn('"bob"', w.chap())
        self.assertIn(f'PSK "{PSK}"', w.ipsec())

    def test_decrypts_ten_names_a_call(self) -> None:
        w = self.world
        w.put("psk", PSK)
        for i in range(23):
            w.put_users(f"s{i:02d}", user(f"user{i:02d}", f"pw-{i:02d}"))
        status = w.poll(decrypt=["psk"] + [f"users/s{i:02d}" for i in range(23)])  # 24 names: 3 calls
        self.assertEqual(status, 0, w.logs.text)
        self.assertEqual(w.chap().count("\tl2tpd\t"), 23)


class ClientTest(unittest.TestCase):
    """The product's own client: boto3's defaults, the region from sync.json, no endpoint setting."""

    def test_make_client(self) -> None:
        config = World(self).config
        with mock.patch.dict(os.environ, {"AWS_ACCESS_KEY_ID": "t", "AWS_SECRET_ACCESS_KEY": "t"}):
            client = make_client(config)
        self.assertEqual(client.meta.region_name, REGION)
        self.assertEqual(client.meta.endpoint_url, f"https://ssm.{REGION}.amazonaws.com")
        self.assertEqual(client.meta.config.connect_timeout, 5)

