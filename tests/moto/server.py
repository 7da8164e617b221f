"""moto's server as the tests run it, with one change: how a cancelled DynamoDB transaction is rolled back.

moto 5 backs up a transaction by deep-copying every table it writes, once per write, and restores those copies
when the transaction is cancelled. Two consequences that DynamoDB does not share: each transaction costs time in
proportion to the whole table (a thousand orders take minutes per hundred), and a cancelled transaction undoes
the writes other clients made to the table meanwhile (a lost update under concurrency). Here the transaction
remembers the items it is about to write, and on cancellation restores exactly those; tables are not copied.
Transactions also run one at a time: moto applies a transaction's writes one by one on a threaded server, so
without a lock a concurrent transaction can check its conditions against writes that a cancellation then rolls
back, and its own update is lost (DynamoDB's transactions are isolated). And a query on the table's own keys
reads the items of its partition only: moto reads every item of the table for each query, so a test that
writes a thousand orders slows down quadratically, where DynamoDB's cost does not grow with the table.
Likewise in SQS: moto checks each message it hands out against the queue's retention period by asking for the
queue's attributes, which counts every message of the queue three times over; here the check reads the
retention period alone, so a receive no longer costs the square of the queue's depth. The server also lists
moto's service folders once instead of on every request, and does not log each request (the tests discard it).
Everything else is moto as installed (requirements-dev.txt pins the version this was written against).
"""

import copy
import functools
import inspect
import logging
import sys
import threading

import moto.backends as backends
import moto.dynamodb.models as models
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.table import Table
from moto.core.utils import unix_time
from moto.sqs.models import SQSBackend


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

_query = Table.query
_query_signature = inspect.signature(_query)
_all_items = Table.all_items
_reading = threading.local()


def all_items(self):
    partition = getattr(_reading, "partition", None)
    if partition is None or partition[0] is not self:
        return _all_items(self)
    # `.get`: `items` is a defaultdict, and a read must not create a partition.
    hash_set = self.items.get(partition[1])
    if not hash_set:
        return []
    items = list(hash_set.values()) if self.range_key_attr else [hash_set]
    return sorted(items, key=lambda x: x.range_key if x.range_key else x.hash_key)


def query(self, *args, **kwargs):
    arguments = _query_signature.bind(self, *args, **kwargs).arguments
    if arguments.get("index_name") or arguments.get("hash_key") is None:
        return _query(self, *args, **kwargs)
    _reading.partition = (self, arguments["hash_key"])
    try:
        return _query(self, *args, **kwargs)
    finally:
        _reading.partition = None


Table.all_items = all_items
Table.query = query


def is_message_valid_based_on_retention_period(self, queue_name, message):
    retention_period = self.get_queue(queue_name).message_retention_period
    return retention_period + message.sent_timestamp / 1000 > unix_time()


SQSBackend.is_message_valid_based_on_retention_period = is_message_valid_based_on_retention_period

_list_of_moto_modules = backends.list_of_moto_modules
backends.list_of_moto_modules = functools.cache(lambda: tuple(_list_of_moto_modules()))

if __name__ == "__main__":
    from moto.server import main

    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    sys.exit(main())
