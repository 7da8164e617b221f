//! KPIs as stored aggregates: one [`Rollup`] per line × lane × day, built from each shipment's [`Facts`]. A
//! shipment's facts change as it moves (delivered, claimed…); the job takes its old facts out and puts the new
//! ones in, so a roll-up never needs its shipments read again. Transit times are kept as a histogram of whole
//! business days, which merges exactly and gives exact percentiles.

use std::collections::BTreeMap;

use jiff::civil::Date;
use serde::{Deserialize, Serialize};

use crate::calendar::{CalendarError, Holidays};

use super::stall::WorkingDays;

/// What the KPIs need to know about one shipment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Facts {
    pub line: String,
    pub lane: String,
    /// The day the carrier took the parcel (else the day it was routed): the roll-up it belongs to.
    pub day: Date,
    pub delivered: bool,
    /// Business days from hand-over to delivery (see [`business_days`]), when delivered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transit_business_days: Option<u32>,
    /// The line's target for this lane: delivered within this many business days.
    pub sla_days: u32,
    /// The journey raised an exception at some point.
    pub exception: bool,
    /// The line requires proof of delivery, and whether the delivery carried it.
    pub pod_required: bool,
    pub pod_present: bool,
    pub suspect_delivery: bool,
    pub stalled: bool,
    pub claimed: bool,
    /// Days from a claim being filed to its being paid or denied, once it is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub claim_cycle_days: Option<u32>,
}

/// Counts of one line × lane × day (or of several merged).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rollup {
    pub shipments: u64,
    pub delivered: u64,
    /// Delivered shipments by transit time in whole business days.
    pub transit_days: BTreeMap<u32, u64>,
    pub within_sla: u64,
    pub exceptions: u64,
    pub pod_required: u64,
    pub pod_present: u64,
    pub suspect_deliveries: u64,
    pub stalled: u64,
    pub claims: u64,
    pub claim_cycle_days_total: u64,
    pub claims_closed: u64,
}

impl Rollup {
    /// Puts one shipment's facts in (`add`) or takes them out.
    fn apply(&mut self, facts: &Facts, add: bool) {
        let step = |n: &mut u64, yes: bool| {
            if yes {
                *n = if add { *n + 1 } else { n.saturating_sub(1) };
            }
        };
        step(&mut self.shipments, true);
        step(&mut self.delivered, facts.delivered);
        if let (true, Some(days)) = (facts.delivered, facts.transit_business_days) {
            let bucket = self.transit_days.entry(days).or_default();
            step(bucket, true);
            if *bucket == 0 {
                self.transit_days.remove(&days);
            }
            step(&mut self.within_sla, days <= facts.sla_days);
        }
        step(&mut self.exceptions, facts.exception);
        step(&mut self.pod_required, facts.delivered && facts.pod_required);
        step(&mut self.pod_present, facts.delivered && facts.pod_required && facts.pod_present);
        step(&mut self.suspect_deliveries, facts.suspect_delivery);
        step(&mut self.stalled, facts.stalled);
        step(&mut self.claims, facts.claimed);
        if let (true, Some(days)) = (facts.claimed, facts.claim_cycle_days) {
            step(&mut self.claims_closed, true);
            self.claim_cycle_days_total = if add {
                self.claim_cycle_days_total + u64::from(days)
            } else {
                self.claim_cycle_days_total.saturating_sub(u64::from(days))
            };
        }
    }

    pub fn add(&mut self, facts: &Facts) {
        self.apply(facts, true);
    }

    pub fn remove(&mut self, facts: &Facts) {
        self.apply(facts, false);
    }

    pub fn merge(&mut self, other: &Rollup) {
        self.shipments += other.shipments;
        self.delivered += other.delivered;
        for (days, n) in &other.transit_days {
            *self.transit_days.entry(*days).or_default() += n;
        }
        self.within_sla += other.within_sla;
        self.exceptions += other.exceptions;
        self.pod_required += other.pod_required;
        self.pod_present += other.pod_present;
        self.suspect_deliveries += other.suspect_deliveries;
        self.stalled += other.stalled;
        self.claims += other.claims;
        self.claim_cycle_days_total += other.claim_cycle_days_total;
        self.claims_closed += other.claims_closed;
    }

    fn share(part: u64, whole: u64) -> Option<f64> {
        (whole > 0).then(|| part as f64 / whole as f64)
    }

    fn timed(&self) -> u64 {
        self.transit_days.values().sum()
    }

    pub fn delivery_rate(&self) -> Option<f64> {
        Self::share(self.delivered, self.shipments)
    }

    /// Of the deliveries with a transit time, the share within the line's target.
    pub fn within_sla_rate(&self) -> Option<f64> {
        Self::share(self.within_sla, self.timed())
    }

    pub fn exception_rate(&self) -> Option<f64> {
        Self::share(self.exceptions, self.shipments)
    }

    pub fn pod_compliance(&self) -> Option<f64> {
        Self::share(self.pod_present, self.pod_required)
    }

    pub fn claim_rate(&self) -> Option<f64> {
        Self::share(self.claims, self.shipments)
    }

    pub fn average_claim_cycle_days(&self) -> Option<f64> {
        Self::share(self.claim_cycle_days_total, self.claims_closed)
    }

    pub fn average_transit_days(&self) -> Option<f64> {
        let total: u64 = self.transit_days.iter().map(|(d, n)| u64::from(*d) * n).sum();
        Self::share(total, self.timed())
    }

    /// The smallest transit time that at least `p` of the timed deliveries did not exceed (nearest rank).
    pub fn transit_percentile(&self, p: f64) -> Option<u32> {
        let n = self.timed();
        if n == 0 {
            return None;
        }
        let rank = ((p * n as f64).ceil() as u64).clamp(1, n);
        let mut seen = 0;
        self.transit_days.iter().find_map(|(days, count)| {
            seen += count;
            (seen >= rank).then_some(*days)
        })
    }
}

/// Business days a delivery took: the working days after the hand-over day up to and including the delivery
/// day (a parcel taken Monday and delivered Tuesday took one; delivered the same day, none).
pub fn business_days(
    handed_over: Date,
    delivered: Date,
    days: &WorkingDays,
    holidays: &Holidays,
) -> Result<u32, CalendarError> {
    let mut count = 0;
    let mut date = handed_over;
    while date < delivered {
        date = match date.tomorrow() {
            Ok(next) => next,
            Err(_) => break,
        };
        if days.weekdays.contains(&crate::calendar::iso_weekday(date))
            && holidays.holiday(&days.calendar, date)?.is_none()
        {
            count += 1;
        }
    }
    Ok(count)
}
