//! Lines as the seller steers them (enabled or not, and why), their measured outcomes, and today's counters
//! per line and per lane that capacity and concentration caps read.

use std::collections::BTreeMap;

use jiff::Timestamp;
use jiff::civil::Date;
use lastmile_core::routing::LineStats;
use serde::{Deserialize, Serialize};

use super::{Record, Versioned, query_all};
use crate::ports::table::{Key, Query, StoreError, TenantTable};

/// Counters are kept for a few days, then expire.
const COUNTER_DAYS: i64 = 3;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LineRecord {
    pub line: String,
    pub enabled: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    pub updated_at: Timestamp,
}

impl Record for LineRecord {
    fn key(&self) -> Key {
        Key::new("line", &self.line)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LineStatsRecord {
    pub line: String,
    pub stats: LineStats,
}

impl Record for LineStatsRecord {
    fn key(&self) -> Key {
        Key::new("line-stats", &self.line)
    }
}

/// Orders a line took on a day (all lanes).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LineDay {
    pub date: Date,
    pub line: String,
    pub orders: u64,
}

impl Record for LineDay {
    fn key(&self) -> Key {
        Key::new(format!("line-day#{}", self.date), &self.line)
    }
    fn expires_at(&self) -> Option<i64> {
        expiry(self.date)
    }
}

/// Orders per line on a lane on a day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LaneDay {
    pub date: Date,
    pub lane: String,
    pub orders: BTreeMap<String, u64>,
}

impl Record for LaneDay {
    fn key(&self) -> Key {
        Key::new(format!("lane-day#{}", self.date), &self.lane)
    }
    fn expires_at(&self) -> Option<i64> {
        expiry(self.date)
    }
}

fn expiry(date: Date) -> Option<i64> {
    date.to_zoned(jiff::tz::TimeZone::UTC).ok().map(|z| z.timestamp().as_second() + COUNTER_DAYS * 86_400)
}

pub async fn all(table: &TenantTable<'_>) -> Result<Vec<LineRecord>, StoreError> {
    Ok(query_all(table, Query::partition("line"), 1000).await?.into_iter().map(|v| v.value).collect())
}

pub async fn stats(table: &TenantTable<'_>, line: &str) -> Result<Option<Versioned<LineStatsRecord>>, StoreError> {
    super::load(table, &Key::new("line-stats", line)).await
}

pub async fn line_day(
    table: &TenantTable<'_>,
    date: Date,
    line: &str,
) -> Result<Option<Versioned<LineDay>>, StoreError> {
    super::load(table, &Key::new(format!("line-day#{date}"), line)).await
}

/// Every line's measured statistics, by line: one query.
pub async fn all_stats(table: &TenantTable<'_>) -> Result<BTreeMap<String, LineStats>, StoreError> {
    let records: Vec<Versioned<LineStatsRecord>> = query_all(table, Query::partition("line-stats"), 1000).await?;
    Ok(records.into_iter().map(|r| (r.value.line.clone(), r.value.stats)).collect())
}

/// Every line's orders on `date`, by line: one query.
pub async fn line_days(
    table: &TenantTable<'_>,
    date: Date,
) -> Result<BTreeMap<String, Versioned<LineDay>>, StoreError> {
    let records: Vec<Versioned<LineDay>> = query_all(table, Query::partition(format!("line-day#{date}")), 1000).await?;
    Ok(records.into_iter().map(|r| (r.value.line.clone(), r)).collect())
}

/// Every lane's orders on `date`, by lane: one query.
pub async fn lane_days(
    table: &TenantTable<'_>,
    date: Date,
) -> Result<BTreeMap<String, Versioned<LaneDay>>, StoreError> {
    let records: Vec<Versioned<LaneDay>> =
        query_all(table, Query::partition(format!("lane-day#{date}")), 10_000).await?;
    Ok(records.into_iter().map(|r| (r.value.lane.clone(), r)).collect())
}
