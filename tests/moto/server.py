"""moto's server as the tests run it, with one change: how a cancelled DynamoDB transaction is rolled back.

moto 5 backs up a transaction by deep-copying every table it writes, once per write, and restores those copies
when the transaction is cancelled. Two consequences that DynamoDB does not share: each transaction costs time in
proportion to the whole table (a thousand orders take minutes per hundred), and a cancelled transaction undoes
the writes other clients made to the table meanwhile (a lost update under concurrency). Here the transaction
remembers the items it is about to write, and on cancellation restores exactly those; tables are not copied.
Transactions also run one at a time: moto applies a transaction's writes one by one on a threaded server, so
without a lock a concurrent transaction can check its conditions against writes that a cancellation then rolls
back, and its own update is lost (DynamoDB's transactions are isolated). Everything else is moto as installed (requirements-dev.txt pins the version this was written against).
"""

import copy
import sys
import threading

import moto.dynamodb.models as models
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.table import Table


class _CopyWithoutTables:
    """`copy` as moto's DynamoDB backend sees it: tables pass through uncopied, everything else is copied."""

    @staticmethod
    def deepcopy(value, memo=None):
        return value if isinstance(value, Table) else copy.deepcopy(value, memo)


models.copy = _CopyWithoutTables

_transact_write_items = DynamoDBBackend.transact_write_items
_one_transaction_at_a_time = threading.Lock()


def transact_write_items(self, transact_items):
    with _one_transaction_at_a_time:
        return _isolated_transact_write_items(self, transact_items)


def _isolated_transact_write_items(self, transact_items):
    before = []
    for entry in transact_items:
        _, op = next(iter(entry.items()))
        table = self.tables.get(op.get("TableName"))
        attrs = op.get("Key") or op.get("Item") or {}
        if table is None or table.hash_key_attr not in attrs:
            continue
        if table.range_key_attr is not None and table.range_key_attr not in attrs:
            continue
        keys = {table.hash_key_attr: attrs[table.hash_key_attr]}
        if table.range_key_attr is not None:
            keys[table.range_key_attr] = attrs[table.range_key_attr]
        hash_key, range_key = self.get_keys_value(table, keys)
        before.append((table, hash_key, range_key, copy.deepcopy(table.get_item(hash_key, range_key))))
    try:
        return _transact_write_items(self, transact_items)
    except Exception:
        for table, hash_key, range_key, item in reversed(before):
            if item is None:
                table.delete_item(hash_key, range_key)
            elif range_key is not None:
                table.items[hash_key][range_key] = item
            else:
                table.items[hash_key] = item
        raise


DynamoDBBackend.transact_write_items = transact_write_items

if __name__ == "__main__":
    from moto.server import main

    sys.exit(main())
