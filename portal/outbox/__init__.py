"""Mail through an outbox: code enqueues messages in its own transaction, a worker sends them.

Importing this package registers the `outbox_message` table with the metadata.
"""

from portal.outbox import models  # noqa: F401
