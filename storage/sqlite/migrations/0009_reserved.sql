-- 0009: reserved for the disabled-accounts migration of branch "disable",
-- written at the same time as 0010; migrations are numbered without gaps,
-- so this placeholder holds the number. Merging both branches: delete
-- this file (0010 does not depend on 0009).
SELECT 1;
