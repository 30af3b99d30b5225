"""The sync layer: change events after every committed write (``events``), the subscriber
that turns them into "look again" for open views (``subscriber``), who is where
(``presence``), and a cache of read-mostly views that is never stale (``cache``).
See docs/sync-and-scheduling.md."""
