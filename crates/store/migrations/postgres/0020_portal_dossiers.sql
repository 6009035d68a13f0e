-- Dossiers submitted on the national portal (Cổng DVCQG) keep the portal's own dossier id:
-- a push repeated by the portal finds the dossier it made (at most one per portal id, even
-- for pushes at the same instant), officers see it, and the sync record carries it back.
-- NULL for every other dossier.
ALTER TABLE dossiers ADD COLUMN portal_id TEXT;
CREATE UNIQUE INDEX dossiers_portal_id ON dossiers (portal_id) WHERE portal_id IS NOT NULL;
