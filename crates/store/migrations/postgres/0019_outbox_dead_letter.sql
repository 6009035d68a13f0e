-- Retries with backoff and a dead letter for the outbox (docs/integration.md, "Delivery
-- through the outbox"). A failed delivery sets `next_attempt_at` (exponential backoff with
-- full jitter); after the configured number of attempts, or a refusal the counterpart says
-- is final, the row gets `dead_at` and is no longer tried until an operator puts it back
-- (`motcua outbox retry`, the admin page). A dead row stays undelivered, so it stays in
-- `outbox_undelivered`, which is why the worker's queries need no index of their own: the
-- index holds what is pending or dead, never the table's history.
ALTER TABLE outbox ADD COLUMN next_attempt_at TIMESTAMPTZ;
ALTER TABLE outbox ADD COLUMN dead_at TIMESTAMPTZ;
