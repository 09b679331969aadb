"""DynamoDB (moto, served by the extension) writes an item atomically: a read never sees half of an UpdateItem."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from tests.localstack.support import ACCOUNT, unique

pytestmark = pytest.mark.localstack

WIDTH = 150  # attributes per write: moto sets them one by one, which is the window a read could fall into
WRITES = 60


def test_a_read_never_sees_part_of_an_update_item(localstack: Any) -> None:
    ddb = localstack.client("dynamodb", ACCOUNT)
    table = unique("atomic")
    ddb.create_table(TableName=table, KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                     AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                     BillingMode="PAY_PER_REQUEST")
    reader = localstack.client("dynamodb", ACCOUNT)  # its own client: the reads run on their own connection
    current: list[str] = []
    seen: list[int] = []
    done = threading.Event()

    def read() -> None:
        while not done.is_set():
            if current:
                item = reader.get_item(TableName=table, Key={"pk": {"S": current[-1]}},
                                       ConsistentRead=True).get("Item")
                if item:
                    seen.append(len(item) - 1)

    thread = threading.Thread(target=read, daemon=True)
    thread.start()
    names = {f"#a{i}": f"a{i}" for i in range(WIDTH)}
    values = {f":v{i}": {"N": str(i)} for i in range(WIDTH)}
    try:
        for n in range(WRITES):
            key = f"k{n}"
            current.append(key)
            ddb.update_item(TableName=table, Key={"pk": {"S": key}},
                            UpdateExpression="SET " + ", ".join(f"#a{i} = :v{i}" for i in range(WIDTH)),
                            ExpressionAttributeNames=names, ExpressionAttributeValues=values)
    finally:
        done.set()
        thread.join(timeout=10)
        ddb.delete_table(TableName=table)
    assert seen, "the reader saw no item at all: nothing was checked"
    partial = sorted({count for count in seen if count != WIDTH})
    assert partial == [], f"reads saw items with {partial} of {WIDTH} attributes"
