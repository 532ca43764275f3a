-- Migration 03's daily rollups are replaced by migration 04's send_metrics_daily: no query, export or dashboard
-- reads them, and their three views ran on every insert. Views first, so no insert lands in a dropped table.
DROP VIEW IF EXISTS sends_daily_mv;
DROP VIEW IF EXISTS engagements_daily_mv;
DROP VIEW IF EXISTS subscriptions_daily_mv;
DROP TABLE IF EXISTS sends_daily;
DROP TABLE IF EXISTS engagements_daily;
DROP TABLE IF EXISTS subscriptions_daily;
