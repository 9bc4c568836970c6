-- 0006: reserved for the disabled-accounts migration of branch "disable",
-- written at the same time as 0007; migrations are numbered without gaps,
-- so this placeholder holds the number. Merging both branches: delete
-- this file (0007 does not depend on 0006).
SELECT 1;
