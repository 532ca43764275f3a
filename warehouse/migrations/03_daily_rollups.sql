-- Daily rollups fed by materialized views. Each target keeps its own deduplication window so a
-- retried insert that the raw table drops is dropped here too (deduplicate_blocks_in_dependent_materialized_views=1).
CREATE TABLE IF NOT EXISTS sends_daily
(
    day Date,
    channel LowCardinality(String),
    regime LowCardinality(String),
    category LowCardinality(String),
    frequency LowCardinality(String),
    business_id String,
    sends UInt64,
    cost_usd Decimal(38, 6)
)
ENGINE = SummingMergeTree
ORDER BY (day, channel, regime, category, frequency, business_id)
SETTINGS non_replicated_deduplication_window = 1000;

CREATE MATERIALIZED VIEW IF NOT EXISTS sends_daily_mv TO sends_daily AS
SELECT toDate(occurred_at) AS day, channel, regime, category, frequency, business_id,
       count() AS sends, toDecimal128(sum(cost_usd), 6) AS cost_usd
FROM sends
GROUP BY day, channel, regime, category, frequency, business_id;

CREATE TABLE IF NOT EXISTS engagements_daily
(
    day Date,
    channel LowCardinality(String),
    regime LowCardinality(String),
    type LowCardinality(String),
    business_id String,
    events UInt64,
    revenue_usd Decimal(38, 6)
)
ENGINE = SummingMergeTree
ORDER BY (day, channel, regime, type, business_id)
SETTINGS non_replicated_deduplication_window = 1000;

CREATE MATERIALIZED VIEW IF NOT EXISTS engagements_daily_mv TO engagements_daily AS
SELECT toDate(occurred_at) AS day, channel, regime, type, business_id,
       count() AS events, toDecimal128(sum(revenue_usd), 6) AS revenue_usd
FROM engagements
GROUP BY day, channel, regime, type, business_id;

CREATE TABLE IF NOT EXISTS subscriptions_daily
(
    day Date,
    channel LowCardinality(String),
    regime LowCardinality(String),
    type LowCardinality(String),
    frequency LowCardinality(String),
    business_id String,
    events UInt64
)
ENGINE = SummingMergeTree
ORDER BY (day, channel, regime, type, frequency, business_id)
SETTINGS non_replicated_deduplication_window = 1000;

CREATE MATERIALIZED VIEW IF NOT EXISTS subscriptions_daily_mv TO subscriptions_daily AS
SELECT toDate(occurred_at) AS day, channel, regime, type, frequency, business_id, count() AS events
FROM subscriptions
GROUP BY day, channel, regime, type, frequency, business_id;
