-- Rollups for /v1/query (docs/metrics.md "Where each metric comes from"): metrics grouped by the dimensions of
-- the SEND, whatever order sends, engagements and subscription events arrive in.
--
-- How exactly-once works: inserts are serialised (one writer, one insert at a time). When a send arrives,
-- its view counts the engagements already stored for it; when an engagement arrives, its view counts it only
-- if its send is already stored, and only if no earlier engagement of the same type was stored for that send.
-- Whichever of the two arrives second does the counting, so every (send, type) pair counts once. Spam-risk
-- events and the sends that may explain them (same business, user and channel, at most 168 hours before) are
-- paired the same way in spam_pairs; queries pick the latest send within the configured window from there.
-- A retried insert is dropped by every view's target: their deduplication tokens derive from the insert's.
-- Inside a view the source table's name means the inserted block, and the leftmost table of the query is the
-- one whose inserts trigger the view.
--
-- Regimes follow the regimes table at query time: rows keep the regime only when the event named one
-- (regime_named); otherwise queries resolve it from regimes_dict by channel and day.

CREATE VIEW IF NOT EXISTS regimes_ranges AS
SELECT channel, start, ifNull(end - 1, toDate('2149-06-06')) AS last, regime FROM regimes;

-- The regime table as inclusive ranges per channel. LIFETIME(0): reloaded only by PUT /v1/regimes
-- (SYSTEM RELOAD DICTIONARY) or when the process starts.
CREATE DICTIONARY IF NOT EXISTS regimes_dict
(
    channel String,
    start Date,
    last Date,
    regime String
)
PRIMARY KEY channel
SOURCE(CLICKHOUSE(TABLE 'regimes_ranges'))
LIFETIME(0)
LAYOUT(RANGE_HASHED())
RANGE(MIN start MAX last);

-- 1 when the row's regime is not what the regime table gave for its channel and day when it was inserted,
-- i.e. the event named its own regime. A writer that knows may write the column itself.
ALTER TABLE sends ADD COLUMN IF NOT EXISTS regime_named UInt8
    DEFAULT regime != dictGetOrDefault('regimes_dict', 'regime', channel, toDate(occurred_at), 'unknown');

ALTER TABLE sends MATERIALIZE COLUMN regime_named SETTINGS mutations_sync = 2;

ALTER TABLE subscriptions ADD COLUMN IF NOT EXISTS regime_named UInt8
    DEFAULT regime != dictGetOrDefault('regimes_dict', 'regime', channel, toDate(occurred_at), 'unknown');

ALTER TABLE subscriptions MATERIALIZE COLUMN regime_named SETTINGS mutations_sync = 2;

-- Each send's dimensions by its id, for engagements that arrive after their send.
CREATE TABLE IF NOT EXISTS send_index
(
    event_id String,
    day Date,
    channel LowCardinality(String),
    regime_override LowCardinality(String) COMMENT 'the regime the event named, empty when it follows the regime table',
    category LowCardinality(String),
    frequency LowCardinality(String),
    business_id String,
    topic Nullable(String),
    campaign_id Nullable(String)
)
ENGINE = MergeTree
ORDER BY event_id
SETTINGS non_replicated_deduplication_window = 1000;

-- Engagements by send id, for sends that arrive after their engagements.
CREATE TABLE IF NOT EXISTS engagement_index
(
    send_id String,
    type LowCardinality(String),
    event_id String,
    revenue_usd Decimal(18, 6)
)
ENGINE = MergeTree
ORDER BY (send_id, type)
SETTINGS non_replicated_deduplication_window = 1000;

-- Send and engagement metrics by send day and send dimensions.
CREATE TABLE IF NOT EXISTS send_metrics_daily
(
    day Date,
    channel LowCardinality(String),
    regime_override LowCardinality(String),
    category LowCardinality(String),
    frequency LowCardinality(String),
    business_id String,
    topic Nullable(String),
    campaign_id Nullable(String),
    sends Int64,
    cost_usd Decimal(38, 6),
    delivered Int64,
    read Int64,
    clicked Int64,
    replied Int64,
    converted Int64,
    revenue_usd Decimal(38, 6),
    revenue_sq Decimal(38, 12) COMMENT 'sum of squared revenue_usd of converted engagements, for the revenue interval',
    contributions Int64 COMMENT 'bookkeeping: view rows summed here; never 0, so no row (and no view output) is dropped as all-zero'
)
ENGINE = SummingMergeTree
ORDER BY (day, channel, regime_override, category, frequency, business_id, topic, campaign_id)
SETTINGS non_replicated_deduplication_window = 1000, allow_nullable_key = 1;

-- The same without business_id, topic and campaign_id: a few rows per channel and day, for queries that neither
-- group nor filter by those. Fed from send_metrics_daily, so both always hold the same totals.
CREATE TABLE IF NOT EXISTS send_metrics_daily_coarse
(
    day Date,
    channel LowCardinality(String),
    regime_override LowCardinality(String),
    category LowCardinality(String),
    frequency LowCardinality(String),
    sends Int64,
    cost_usd Decimal(38, 6),
    delivered Int64,
    read Int64,
    clicked Int64,
    replied Int64,
    converted Int64,
    revenue_usd Decimal(38, 6),
    revenue_sq Decimal(38, 12),
    contributions Int64
)
ENGINE = SummingMergeTree
ORDER BY (day, channel, regime_override, category, frequency)
SETTINGS non_replicated_deduplication_window = 1000;

-- Every spam-risk event (opt_out, block, spam_report) with every send of the same business, user and channel
-- at or up to 168 hours before it: the candidates for its attribution, with the send's dimensions.
CREATE TABLE IF NOT EXISTS spam_pairs
(
    event_id String,
    type LowCardinality(String),
    occurred_at DateTime64(3, 'UTC'),
    send_id String,
    send_at DateTime64(3, 'UTC'),
    day Date COMMENT 'UTC day of the send',
    channel LowCardinality(String),
    regime_override LowCardinality(String),
    category LowCardinality(String),
    frequency LowCardinality(String),
    business_id String,
    topic Nullable(String),
    campaign_id Nullable(String)
)
ENGINE = MergeTree
ORDER BY (occurred_at, event_id, send_at, send_id)
SETTINGS non_replicated_deduplication_window = 1000;

CREATE MATERIALIZED VIEW IF NOT EXISTS send_index_mv TO send_index AS
SELECT event_id, toDate(occurred_at) AS day, channel, if(regime_named, regime, '') AS regime_override,
       category, frequency, business_id, topic, campaign_id
FROM sends;

CREATE MATERIALIZED VIEW IF NOT EXISTS engagement_index_mv TO engagement_index AS
SELECT send_id, type, event_id, revenue_usd FROM engagements;

-- A send: itself, plus the engagements stored before it. One row per send: grouping here would cost more than it
-- saves (the fine key is nearly unique per send); SummingMergeTree merges rows later, send_metrics_daily_coarse_mv
-- aggregates per block.
CREATE MATERIALIZED VIEW IF NOT EXISTS send_metrics_sends_mv TO send_metrics_daily AS
SELECT toDate(s.occurred_at) AS day, s.channel AS channel, if(s.regime_named, s.regime, '') AS regime_override,
       s.category AS category, s.frequency AS frequency, s.business_id AS business_id, s.topic AS topic, s.campaign_id AS campaign_id,
       toInt64(1) AS sends, toDecimal128(s.cost_usd, 6) AS cost_usd,
       toInt64(e.delivered) AS delivered, toInt64(e.read) AS read, toInt64(e.clicked) AS clicked,
       toInt64(e.replied) AS replied, toInt64(e.converted) AS converted,
       toDecimal128(e.rev, 6) AS revenue_usd, toDecimal128(e.rev_sq, 12) AS revenue_sq, toInt64(1) AS contributions
FROM sends AS s
LEFT JOIN
(
    SELECT send_id,
           max(type = 'delivered') AS delivered, max(type = 'read') AS read, max(type = 'clicked') AS clicked,
           max(type = 'replied') AS replied, max(type = 'converted') AS converted,
           toDecimal128(sumIf(revenue_usd, type = 'converted'), 6) AS rev,
           sumIf(toDecimal128(revenue_usd, 6) * toDecimal128(revenue_usd, 6), type = 'converted') AS rev_sq
    FROM engagement_index
    PREWHERE send_id IN (SELECT event_id FROM sends)
    GROUP BY send_id
) AS e ON e.send_id = s.event_id;

-- Engagements whose send is stored: a type counts for a send only if no earlier engagement of that type did.
-- One row per send of the block, also when the send is not stored yet: that row has zero measures under an empty
-- key (day 1970-01-01) and contributions = 1, so SummingMergeTree does not drop it as all-zero. The view's
-- output is thus never empty, its deduplication token is recorded on the first attempt, and a retried insert is
-- dropped here even if the send arrived since (an empty output records no token). PREWHERE keeps the engine
-- from reading every event_id of engagement_index for the NOT IN.
CREATE MATERIALIZED VIEW IF NOT EXISTS send_metrics_engagements_mv TO send_metrics_daily AS
SELECT si.day AS day, si.channel AS channel, si.regime_override AS regime_override, si.category AS category,
       si.frequency AS frequency, si.business_id AS business_id, si.topic AS topic, si.campaign_id AS campaign_id,
       toInt64(0) AS sends, toDecimal128(0, 6) AS cost_usd,
       toInt64(si.known AND b.delivered AND NOT p.delivered) AS delivered,
       toInt64(si.known AND b.read AND NOT p.read) AS read,
       toInt64(si.known AND b.clicked AND NOT p.clicked) AS clicked,
       toInt64(si.known AND b.replied AND NOT p.replied) AS replied,
       toInt64(si.known AND b.converted AND NOT p.converted) AS converted,
       if(si.known, b.rev, toDecimal128(0, 6)) AS revenue_usd, if(si.known, b.rev_sq, toDecimal128(0, 12)) AS revenue_sq,
       toInt64(1) AS contributions
FROM
(
    SELECT send_id,
           max(type = 'delivered') AS delivered, max(type = 'read') AS read, max(type = 'clicked') AS clicked,
           max(type = 'replied') AS replied, max(type = 'converted') AS converted,
           toDecimal128(sumIf(revenue_usd, type = 'converted'), 6) AS rev,
           toDecimal128(sumIf(toDecimal128(revenue_usd, 6) * toDecimal128(revenue_usd, 6), type = 'converted'), 12) AS rev_sq
    FROM engagements
    GROUP BY send_id
) AS b
LEFT JOIN
(
    SELECT event_id, day, channel, regime_override, category, frequency, business_id, topic, campaign_id, toUInt8(1) AS known
    FROM send_index
    PREWHERE event_id IN (SELECT send_id FROM engagements)
) AS si ON si.event_id = b.send_id
LEFT JOIN
(
    SELECT send_id,
           max(type = 'delivered') AS delivered, max(type = 'read') AS read, max(type = 'clicked') AS clicked,
           max(type = 'replied') AS replied, max(type = 'converted') AS converted
    FROM engagement_index
    PREWHERE send_id IN (SELECT send_id FROM engagements)
    WHERE event_id NOT IN (SELECT event_id FROM engagements)
    GROUP BY send_id
) AS p ON p.send_id = b.send_id
SETTINGS join_use_nulls = 0;

CREATE MATERIALIZED VIEW IF NOT EXISTS send_metrics_daily_coarse_mv TO send_metrics_daily_coarse AS
SELECT r.day AS day, r.channel AS channel, r.regime_override AS regime_override, r.category AS category, r.frequency AS frequency,
       sum(r.sends) AS sends, sum(r.cost_usd) AS cost_usd, sum(r.delivered) AS delivered, sum(r.read) AS read,
       sum(r.clicked) AS clicked, sum(r.replied) AS replied, sum(r.converted) AS converted, sum(r.revenue_usd) AS revenue_usd,
       sum(r.revenue_sq) AS revenue_sq, sum(r.contributions) AS contributions
FROM send_metrics_daily AS r
GROUP BY day, channel, regime_override, category, frequency;

-- New sends paired with the stored spam-risk events they may explain. Only sends whose (channel, business,
-- user) has such an event at all go further than one probe into a small set.
CREATE MATERIALIZED VIEW IF NOT EXISTS spam_pairs_sends_mv TO spam_pairs AS
SELECT o.event_id AS event_id, o.type AS type, o.occurred_at AS occurred_at,
       s.event_id AS send_id, s.occurred_at AS send_at, toDate(s.occurred_at) AS day, s.channel AS channel,
       if(s.regime_named, s.regime, '') AS regime_override, s.category AS category, s.frequency AS frequency,
       s.business_id AS business_id, s.topic AS topic, s.campaign_id AS campaign_id
FROM
(
    SELECT event_id, occurred_at, channel, business_id, user_id, regime, regime_named, category, frequency, topic, campaign_id
    FROM sends
    WHERE (channel, business_id, user_id) IN (SELECT channel, business_id, user_id FROM subscriptions
                                              WHERE type IN ('opt_out', 'block', 'spam_report'))
) AS s
INNER JOIN
(
    SELECT event_id, type, occurred_at, channel, business_id, user_id FROM subscriptions
    WHERE type IN ('opt_out', 'block', 'spam_report')
) AS o ON o.channel = s.channel AND o.business_id = s.business_id AND o.user_id = s.user_id
WHERE s.occurred_at <= o.occurred_at AND s.occurred_at >= o.occurred_at - INTERVAL 168 HOUR;

-- New spam-risk events paired with the stored sends that may explain them.
CREATE MATERIALIZED VIEW IF NOT EXISTS spam_pairs_subscriptions_mv TO spam_pairs AS
SELECT o.event_id AS event_id, o.type AS type, o.occurred_at AS occurred_at,
       s.event_id AS send_id, s.occurred_at AS send_at, toDate(s.occurred_at) AS day, s.channel AS channel,
       if(s.regime_named, s.regime, '') AS regime_override, s.category AS category, s.frequency AS frequency,
       s.business_id AS business_id, s.topic AS topic, s.campaign_id AS campaign_id
FROM
(
    SELECT event_id, type, occurred_at, channel, business_id, user_id FROM subscriptions
    WHERE type IN ('opt_out', 'block', 'spam_report')
) AS o
INNER JOIN
(
    SELECT event_id, occurred_at, channel, business_id, user_id, regime, regime_named, category, frequency, topic, campaign_id
    FROM sends
    PREWHERE (channel, business_id, user_id) IN (SELECT channel, business_id, user_id FROM subscriptions
                                                 WHERE type IN ('opt_out', 'block', 'spam_report'))
) AS s ON s.channel = o.channel AND s.business_id = o.business_id AND s.user_id = o.user_id
WHERE s.occurred_at <= o.occurred_at AND s.occurred_at >= o.occurred_at - INTERVAL 168 HOUR;

-- Backfill from what is already stored (the views above see only what arrives from now on). Migrations run
-- before any writer starts, so nothing arrives meanwhile; truncating first makes a re-run after a cut-short
-- migration safe.
TRUNCATE TABLE send_index;

INSERT INTO send_index
SELECT event_id, toDate(occurred_at) AS day, channel, if(regime_named, regime, '') AS regime_override,
       category, frequency, business_id, topic, campaign_id
FROM sends
SETTINGS insert_deduplicate = 0;

TRUNCATE TABLE engagement_index;

INSERT INTO engagement_index
SELECT send_id, type, event_id, revenue_usd FROM engagements
SETTINGS insert_deduplicate = 0;

-- Inserting into send_metrics_daily feeds send_metrics_daily_coarse through its view.
TRUNCATE TABLE send_metrics_daily_coarse;

TRUNCATE TABLE send_metrics_daily;

INSERT INTO send_metrics_daily
SELECT toDate(s.occurred_at) AS day, s.channel AS channel, if(s.regime_named, s.regime, '') AS regime_override,
       s.category AS category, s.frequency AS frequency, s.business_id AS business_id, s.topic AS topic, s.campaign_id AS campaign_id,
       toInt64(count()) AS sends, toDecimal128(sum(s.cost_usd), 6) AS cost_usd,
       toInt64(sum(e.delivered)) AS delivered, toInt64(sum(e.read)) AS read, toInt64(sum(e.clicked)) AS clicked,
       toInt64(sum(e.replied)) AS replied, toInt64(sum(e.converted)) AS converted,
       toDecimal128(sum(e.rev), 6) AS revenue_usd, toDecimal128(sum(e.rev_sq), 12) AS revenue_sq, toInt64(count()) AS contributions
FROM sends AS s
LEFT JOIN
(
    SELECT send_id,
           max(type = 'delivered') AS delivered, max(type = 'read') AS read, max(type = 'clicked') AS clicked,
           max(type = 'replied') AS replied, max(type = 'converted') AS converted,
           toDecimal128(sumIf(revenue_usd, type = 'converted'), 6) AS rev,
           sumIf(toDecimal128(revenue_usd, 6) * toDecimal128(revenue_usd, 6), type = 'converted') AS rev_sq
    FROM engagements
    GROUP BY send_id
) AS e ON e.send_id = s.event_id
GROUP BY day, channel, regime_override, category, frequency, business_id, topic, campaign_id
SETTINGS insert_deduplicate = 0;

TRUNCATE TABLE spam_pairs;

INSERT INTO spam_pairs
SELECT o.event_id AS event_id, o.type AS type, o.occurred_at AS occurred_at,
       s.event_id AS send_id, s.occurred_at AS send_at, toDate(s.occurred_at) AS day, s.channel AS channel,
       if(s.regime_named, s.regime, '') AS regime_override, s.category AS category, s.frequency AS frequency,
       s.business_id AS business_id, s.topic AS topic, s.campaign_id AS campaign_id
FROM
(
    SELECT event_id, type, occurred_at, channel, business_id, user_id FROM subscriptions
    WHERE type IN ('opt_out', 'block', 'spam_report')
) AS o
INNER JOIN
(
    SELECT event_id, occurred_at, channel, business_id, user_id, regime, regime_named, category, frequency, topic, campaign_id
    FROM sends
    WHERE (channel, business_id, user_id) IN (SELECT channel, business_id, user_id FROM subscriptions
                                              WHERE type IN ('opt_out', 'block', 'spam_report'))
) AS s ON s.channel = o.channel AND s.business_id = o.business_id AND s.user_id = o.user_id
WHERE s.occurred_at <= o.occurred_at AND s.occurred_at >= o.occurred_at - INTERVAL 168 HOUR
SETTINGS insert_deduplicate = 0;
