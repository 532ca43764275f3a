-- Raw events, one row per accepted event. Every insert carries a deduplication token, so a retried
-- block is dropped here and in every rollup (see docs/ingest.md). Money is Decimal so rollups equal raw exactly.
CREATE TABLE IF NOT EXISTS sends
(
    event_id String,
    occurred_at DateTime64(3, 'UTC'),
    business_id String,
    user_id String,
    channel LowCardinality(String),
    category LowCardinality(String),
    frequency LowCardinality(String) COMMENT 'empty when the send is not a recurring notification',
    topic Nullable(String),
    campaign_id Nullable(String),
    cost_usd Decimal(18, 6),
    regime LowCardinality(String),
    ingested_at DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = MergeTree
PARTITION BY toYear(occurred_at)
ORDER BY (channel, business_id, user_id, occurred_at)
SETTINGS non_replicated_deduplication_window = 1000;

CREATE TABLE IF NOT EXISTS engagements
(
    event_id String,
    occurred_at DateTime64(3, 'UTC'),
    business_id String,
    user_id String,
    channel LowCardinality(String),
    type LowCardinality(String),
    send_id String,
    revenue_usd Decimal(18, 6),
    regime LowCardinality(String),
    ingested_at DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = MergeTree
PARTITION BY toYear(occurred_at)
ORDER BY (channel, business_id, send_id, type)
SETTINGS non_replicated_deduplication_window = 1000;

CREATE TABLE IF NOT EXISTS subscriptions
(
    event_id String,
    occurred_at DateTime64(3, 'UTC'),
    business_id String,
    user_id String,
    channel LowCardinality(String),
    type LowCardinality(String),
    topic Nullable(String),
    frequency LowCardinality(String) COMMENT 'set on opt_in only, empty otherwise',
    reason Nullable(String),
    regime LowCardinality(String),
    ingested_at DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = MergeTree
PARTITION BY toYear(occurred_at)
ORDER BY (channel, business_id, user_id, occurred_at)
SETTINGS non_replicated_deduplication_window = 1000;

-- Every event_id ever accepted, ordered for fast look-ups. Written after the raw insert succeeds,
-- so an id here means its event is in the raw table and in every rollup.
CREATE TABLE IF NOT EXISTS event_ids
(
    event_id String,
    family LowCardinality(String)
)
ENGINE = MergeTree
ORDER BY event_id
SETTINGS non_replicated_deduplication_window = 1000;
