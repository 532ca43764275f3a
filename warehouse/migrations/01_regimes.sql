-- Policy regimes: which rules a channel was under on a day. Half-open ranges [start, end); end NULL is open.
CREATE TABLE IF NOT EXISTS regimes
(
    channel LowCardinality(String),
    regime String,
    start Date,
    end Nullable(Date),
    label String
)
ENGINE = MergeTree
ORDER BY (channel, start);
