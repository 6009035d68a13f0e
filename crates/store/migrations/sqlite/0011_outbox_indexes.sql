-- The outbox only grows, and neither of its readers could use `outbox_pending (topic,
-- delivered_at)`: the delivery worker asks for undelivered rows in id order
-- (`lifecycle::PENDING_OUTBOX`), evaluation counts a dossier's rows of a topic. Both scanned
-- the whole table — the worker once a second, and at once again after each full batch — so
-- a busy server slowed down as its history grew (docs/PERFORMANCE.md, run 10).
DROP INDEX outbox_pending;
CREATE INDEX outbox_undelivered ON outbox(id) WHERE delivered_at IS NULL;
CREATE INDEX outbox_dossier ON outbox(dossier_id, topic);
