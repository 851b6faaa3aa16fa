"""moto's server, with DynamoDB's per-item atomicity.

Real DynamoDB applies each write to an item atomically: N concurrent
`UpdateItem ... ADD n :one` calls add exactly N, and a conditional write is
checked and applied in one step. moto's threaded server runs each request in
its own thread and its DynamoDB backend reads, checks and writes an item with
no lock, so concurrent writers can lose an update (measured: 119 of 120
concurrent ADDs landed). The breaker and the duplicate-request markers rely on
that atomicity, so the emulator must have it too: every DynamoDB item
operation here runs under one lock, and answers with a snapshot. Everything else is moto's own server
(same arguments: -H HOST -p PORT ...).
"""

import copy
import functools
import sys
import threading

from moto.dynamodb.models import DynamoDBBackend
from moto.server import main

_LOCK = threading.RLock()

for _name in (
    "put_item", "get_item", "update_item", "delete_item", "query", "scan",
    "transact_write_items", "transact_get_items", "batch_write_item", "batch_get_item",
):
    _original = getattr(DynamoDBBackend, _name)

    @functools.wraps(_original)
    def _atomic(self, *args, _original=_original, **kwargs):
        with _LOCK:
            # A copy: moto's response layer reads the returned item after the
            # lock is gone, when another write may be changing it in place.
            return copy.deepcopy(_original(self, *args, **kwargs))

    setattr(DynamoDBBackend, _name, _atomic)

if __name__ == "__main__":
    sys.exit(main())
