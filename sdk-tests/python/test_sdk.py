"""The official azure-cosmos Python SDK against a running Rewind: CRUD and a query."""

import json
import os
import socket
import subprocess
import tempfile
import time
import unittest
import urllib.parse
import urllib.request
from pathlib import Path

from azure.cosmos import CosmosClient, PartitionKey, exceptions

ROOT = Path(__file__).resolve().parents[2]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Rewind:
    """A real Rewind with a fresh data folder, and an account made through the portal API."""

    def __init__(self):
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.data = tempfile.TemporaryDirectory()
        env = dict(os.environ, REWIND_BIND=f"127.0.0.1:{self.port}", REWIND_DATA_DIR=self.data.name,
                   REWIND_ADMIN_USER="admin", REWIND_ADMIN_PASSWORD="py-admin-password", REWIND_LOG="warn")
        self.proc = subprocess.Popen([str(ROOT / "target" / "debug" / "rewind")], cwd=ROOT, env=env,
                                     stdout=subprocess.DEVNULL)
        for _ in range(300):
            try:
                urllib.request.urlopen(f"{self.base}/healthz", timeout=1)
                break
            except OSError:
                time.sleep(0.1)
        self.cookie = ""
        self.call("login", username="admin", password="py-admin-password")

    def call(self, fn, **args):
        req = urllib.request.Request(f"{self.base}/api/{fn}", data=urllib.parse.urlencode(args).encode(),
                                     headers={"Cookie": self.cookie,
                                              "Content-Type": "application/x-www-form-urlencoded"})
        with urllib.request.urlopen(req) as res:
            if res.headers.get("Set-Cookie"):
                self.cookie = res.headers["Set-Cookie"].split(";")[0]
            return json.loads(res.read() or b"null")

    def account(self, name):
        sub = self.call("create_subscription", name=f"sub-{name}")
        acct = self.call("create_account", subscription_id=sub["id"], name=name, region="local", mode="")
        keys = self.call("list_keys", subscription_id=sub["id"], name=name)
        return acct["endpoint"], keys

    def stop(self):
        self.proc.terminate()
        self.proc.wait(10)
        self.data.cleanup()


class PythonSdk(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.rewind = Rewind()
        endpoint, keys = cls.rewind.account("sdk-python")
        cls.client = CosmosClient(endpoint, credential=keys["primaryMasterKey"])
        cls.db = cls.client.create_database_if_not_exists("pyshop")
        cls.container = cls.db.create_container_if_not_exists("orders", partition_key=PartitionKey(path="/tenant"))

    @classmethod
    def tearDownClass(cls):
        cls.rewind.stop()

    def test_item_crud(self):
        c = self.container
        created = c.create_item({"id": "a", "tenant": "t1", "total": 1})
        self.assertTrue(created["_etag"])
        self.assertEqual(c.read_item("a", partition_key="t1")["total"], 1)
        c.replace_item("a", {"id": "a", "tenant": "t1", "total": 2})
        c.upsert_item({"id": "b", "tenant": "t1", "total": 3})
        self.assertEqual(c.read_item("a", partition_key="t1")["total"], 2)
        with self.assertRaises(exceptions.CosmosResourceExistsError):
            c.create_item({"id": "a", "tenant": "t1"})
        c.delete_item("b", partition_key="t1")
        with self.assertRaises(exceptions.CosmosResourceNotFoundError):
            c.read_item("b", partition_key="t1")

    def test_query_with_parameters_and_order(self):
        c = self.container
        for i in range(5):
            c.upsert_item({"id": f"q{i}", "tenant": "t2", "n": i})
        rows = list(c.query_items(
            query="SELECT VALUE c.id FROM c WHERE c.n >= @min ORDER BY c.n DESC",
            parameters=[{"name": "@min", "value": 2}],
            enable_cross_partition_query=True,
        ))
        self.assertEqual(rows, ["q4", "q3", "q2"])
        count = list(c.query_items("SELECT VALUE COUNT(1) FROM c", partition_key="t2"))
        self.assertEqual(count, [5])


if __name__ == "__main__":
    result = unittest.main(exit=False, verbosity=2).result
    failed = len(result.failures) + len(result.errors)
    print(f"python-sdk: {result.testsRun - failed} passed, {failed} failed")
    raise SystemExit(1 if failed or not result.testsRun else 0)
