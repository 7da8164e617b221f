//! What becomes of a returned item: the way of putting it back to use that recovers most (restock, refurbish,
//! liquidate), unless bringing it back costs more than the policy's share of that — then the buyer keeps it and
//! is refunded. The answer carries its arithmetic.

use serde::{Deserialize, Serialize};

use super::policy::{Condition, Policy};
use crate::money::{Currency, Money, percent_of};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Disposition {
    Restock,
    Refurbish,
    Liquidate,
    /// Refund without the item coming back.
    ReturnlessRefund,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Decision {
    pub disposition: Disposition,
    /// What the chosen (or best) way of putting it back to use recovers, in minor units.
    pub recoverable: i64,
    /// Return shipping plus handling.
    pub cost: i64,
    pub explanation: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DispositionError {
    #[error("the return policy has no costs in {0}")]
    NoCosts(Currency),
}

/// Decides for an item of `value` in `condition`, whose return label costs `return_shipping`.
pub fn decide(
    policy: &Policy,
    value: Money,
    condition: Condition,
    return_shipping: i64,
) -> Result<Decision, DispositionError> {
    let costs = policy.costs.get(&value.currency).ok_or(DispositionError::NoCosts(value.currency))?;
    let show = |minor: i64| Money::new(minor, value.currency).to_string();
    let recovery = &policy.recovery;
    let options = [
        (Disposition::Restock, recovery.restock.get(&condition), 0),
        (Disposition::Refurbish, recovery.refurbish.get(&condition), costs.refurbish),
        (Disposition::Liquidate, recovery.liquidate.get(&condition), 0),
    ];
    let mut worked = Vec::new();
    let mut best: Option<(Disposition, i64)> = None;
    for (disposition, share, extra) in options {
        let Some(&share) = share else { continue };
        let recovered = percent_of(value.minor, share) - extra;
        let less = if extra > 0 { format!(" − {} refurbishing", show(extra)) } else { String::new() };
        worked.push(format!(
            "{} {} % of {}{less} = {}",
            disposition.as_str(),
            share / 100,
            show(value.minor),
            show(recovered)
        ));
        // Earlier options win ties: restocking is simpler than refurbishing, which keeps more than liquidating.
        if best.is_none_or(|(_, b)| recovered > b) {
            best = Some((disposition, recovered));
        }
    }
    let (best, recoverable) = best.unwrap_or((Disposition::Liquidate, 0));
    let cost = return_shipping + costs.handling;
    // cost > share × recoverable, compared in basis points so that no rounding moves the edge.
    let too_costly =
        i128::from(cost) * 10_000 > i128::from(policy.returnless_share_bp) * i128::from(recoverable.max(0));
    let threshold = format!("{} % of {}", policy.returnless_share_bp / 100, show(recoverable.max(0)));
    let sum = format!("return shipping {} + handling {} = {}", show(return_shipping), show(costs.handling), show(cost));
    let verdict = if too_costly {
        format!("{sum} is more than {threshold}: the buyer keeps it")
    } else {
        format!("{sum} is not more than {threshold}: {}", best.as_str())
    };
    Ok(Decision {
        disposition: if too_costly { Disposition::ReturnlessRefund } else { best },
        recoverable,
        cost,
        explanation: format!("{} item: {}; {verdict}", condition.as_str(), worked.join(", ")),
    })
}

impl Disposition {
    pub fn as_str(self) -> &'static str {
        match self {
            Disposition::Restock => "restock",
            Disposition::Refurbish => "refurbish",
            Disposition::Liquidate => "liquidate",
            Disposition::ReturnlessRefund => "returnless refund",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::returns::policy::BUILTIN;

    fn usd(minor: i64) -> Money {
        Money::new(minor, Currency::new("USD").unwrap())
    }

    fn decide_usd(value: i64, condition: Condition, shipping: i64) -> Decision {
        decide(Policy::builtin().unwrap(), usd(value), condition, shipping).unwrap()
    }

    #[test]
    fn exactly_at_the_share_it_comes_back_just_over_the_buyer_keeps_it() {
        // New $40.00: restock 100 % = 4000 (liquidate 30 % = 1200). Threshold 50 % of 4000 = 2000.
        // Shipping 1700 + handling 300 = 2000: not more → restock.
        let at = decide_usd(4000, Condition::New, 1700);
        assert_eq!((at.disposition, at.recoverable, at.cost), (Disposition::Restock, 4000, 2000));
        assert_eq!(
            at.explanation,
            "new item: restock 100 % of 40.00 USD = 40.00 USD, liquidate 30 % of 40.00 USD = 12.00 USD; return shipping \
             17.00 USD + handling 3.00 USD = 20.00 USD is not more than 50 % of 40.00 USD: restock"
        );
        // 1701 + 300 = 2001 > 2000 → keep it.
        let over = decide_usd(4000, Condition::New, 1701);
        assert_eq!((over.disposition, over.cost), (Disposition::ReturnlessRefund, 2001));
        assert!(
            over.explanation.ends_with("is more than 50 % of 40.00 USD: the buyer keeps it"),
            "{}",
            over.explanation
        );
    }

    #[test]
    fn the_way_that_recovers_most_wins() {
        // Opened $100: restock 85 % = 8500; refurbish 70 % = 7000 − 1500 = 5500; liquidate 25 % = 2500 → restock.
        assert_eq!(decide_usd(10_000, Condition::Opened, 895).disposition, Disposition::Restock);
        // Defective $100: refurbish 60 % = 6000 − 1500 = 4500; liquidate 15 % = 1500 → refurbish.
        let defective = decide_usd(10_000, Condition::Defective, 895);
        assert_eq!((defective.disposition, defective.recoverable), (Disposition::Refurbish, 4500));
        // A damaged $200 item only liquidates: 10 % of 20000 = 2000; free label 0 + 300 = 300, not more than
        // 50 % of 2000 = 1000 → liquidate.
        assert_eq!(decide_usd(20_000, Condition::Damaged, 0).disposition, Disposition::Liquidate);
        // Defective $20: refurbish 1200 − 1500 = −300, liquidate 300; 895 + 300 = 1195 > 150 → keep it.
        assert_eq!(decide_usd(2000, Condition::Defective, 895).disposition, Disposition::ReturnlessRefund);
    }

    #[test]
    fn the_share_is_data() {
        let lenient =
            Policy::from_toml(&BUILTIN.replace("returnless_share_bp = 5000", "returnless_share_bp = 6000")).unwrap();
        // 2001 is not more than 60 % of 4000 = 2400.
        let decision = decide(&lenient, usd(4000), Condition::New, 1701).unwrap();
        assert_eq!(decision.disposition, Disposition::Restock);
        let yen = Money::new(4000, Currency::new("JPY").unwrap());
        assert!(decide(Policy::builtin().unwrap(), yen, Condition::New, 0).is_err());
    }
}
