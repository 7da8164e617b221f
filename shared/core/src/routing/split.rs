//! Which warehouses ship an order, by stock.
//!
//! The rule, in order:
//! 1. Every warehouse that holds every line in full can ship the whole order: all are candidates, and the score
//!    of their lines chooses between them.
//! 2. Otherwise the order is split: the warehouse that can fill the most of what remains (in units; ties go to
//!    the one listed first in the configuration) takes what it can, and so on until all is placed or no
//!    warehouse has any of the rest, which is backordered.
//!
//! A SKU with no stock record in any warehouse is not tracked, and counts as available everywhere.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// A quantity of one SKU.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Units {
    pub sku: String,
    pub quantity: u32,
}

/// Stock on hand: warehouse → SKU → units available.
pub type Stock = BTreeMap<String, BTreeMap<String, i64>>;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Group {
    pub warehouse: String,
    pub units: Vec<Units>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Allocation {
    /// Any of these warehouses can ship all of it.
    Whole { warehouses: Vec<String> },
    /// No single warehouse can: these shipments, and what none has.
    Split { groups: Vec<Group>, backordered: Vec<Units> },
}

/// Allocates `lines` over `warehouses` (in the seller's order of preference).
pub fn allocate(lines: &[Units], warehouses: &[&str], stock: &Stock) -> Allocation {
    let tracked = |sku: &str| stock.values().any(|by_sku| by_sku.contains_key(sku));
    let available = |warehouse: &str, sku: &str| -> u64 {
        if !tracked(sku) {
            return u64::MAX;
        }
        stock.get(warehouse).and_then(|s| s.get(sku)).copied().unwrap_or(0).max(0) as u64
    };
    let whole: Vec<String> = warehouses
        .iter()
        .filter(|w| lines.iter().all(|l| available(w, &l.sku) >= u64::from(l.quantity)))
        .map(|w| (*w).to_owned())
        .collect();
    if !whole.is_empty() {
        return Allocation::Whole { warehouses: whole };
    }
    let mut remaining: Vec<Units> = lines.iter().filter(|l| l.quantity > 0).cloned().collect();
    let mut used: BTreeMap<(String, String), u64> = BTreeMap::new();
    let mut groups = Vec::new();
    let mut open: Vec<&str> = warehouses.to_vec();
    loop {
        let fill = |w: &str, remaining: &[Units], used: &BTreeMap<(String, String), u64>| -> Vec<Units> {
            remaining
                .iter()
                .filter_map(|l| {
                    let taken = used.get(&(w.to_owned(), l.sku.clone())).copied().unwrap_or(0);
                    let can = available(w, &l.sku).saturating_sub(taken).min(u64::from(l.quantity)) as u32;
                    (can > 0).then(|| Units { sku: l.sku.clone(), quantity: can })
                })
                .collect()
        };
        let units = |u: &[Units]| u.iter().map(|x| u64::from(x.quantity)).sum::<u64>();
        // The first listed wins a tie: max_by_key keeps the last maximum, so compare on (units, reverse position).
        let best = open
            .iter()
            .enumerate()
            .map(|(i, w)| (units(&fill(w, &remaining, &used)), std::cmp::Reverse(i), *w))
            .max_by_key(|(n, i, _)| (*n, *i));
        let Some((_, _, warehouse)) = best.filter(|(n, _, _)| *n > 0) else { break };
        let taken = fill(warehouse, &remaining, &used);
        for t in &taken {
            *used.entry((warehouse.to_owned(), t.sku.clone())).or_default() += u64::from(t.quantity);
            if let Some(line) = remaining.iter_mut().find(|l| l.sku == t.sku) {
                line.quantity -= t.quantity;
            }
        }
        remaining.retain(|l| l.quantity > 0);
        groups.push(Group { warehouse: warehouse.to_owned(), units: taken });
        open.retain(|w| *w != warehouse);
        if remaining.is_empty() {
            break;
        }
    }
    Allocation::Split { groups, backordered: remaining }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn units(pairs: &[(&str, u32)]) -> Vec<Units> {
        pairs.iter().map(|(s, q)| Units { sku: (*s).into(), quantity: *q }).collect()
    }

    fn stock(rows: &[(&str, &str, i64)]) -> Stock {
        let mut s = Stock::new();
        for (w, sku, n) in rows {
            s.entry((*w).into()).or_default().insert((*sku).into(), *n);
        }
        s
    }

    #[test]
    fn every_warehouse_holding_all_is_a_candidate() {
        let s = stock(&[("a", "x", 5), ("b", "x", 2), ("c", "x", 1)]);
        let got = allocate(&units(&[("x", 2)]), &["a", "b", "c"], &s);
        assert_eq!(got, Allocation::Whole { warehouses: vec!["a".into(), "b".into()] });
    }

    #[test]
    fn untracked_skus_ship_from_anywhere() {
        let got = allocate(&units(&[("y", 3)]), &["a", "b"], &Stock::new());
        assert_eq!(got, Allocation::Whole { warehouses: vec!["a".into(), "b".into()] });
    }

    #[test]
    fn splits_by_most_units_then_backorders_the_rest() {
        // a has 1 x + 0 z; b has 2 x + 1 z → b fills 3 of 4 units first; a the last x; z 1 unit short.
        let s = stock(&[("a", "x", 1), ("b", "x", 2), ("b", "z", 1)]);
        let got = allocate(&units(&[("x", 3), ("z", 2)]), &["a", "b"], &s);
        assert_eq!(
            got,
            Allocation::Split {
                groups: vec![
                    Group { warehouse: "b".into(), units: units(&[("x", 2), ("z", 1)]) },
                    Group { warehouse: "a".into(), units: units(&[("x", 1)]) },
                ],
                backordered: units(&[("z", 1)]),
            }
        );
    }

    #[test]
    fn a_tie_goes_to_the_first_listed() {
        let s = stock(&[("a", "x", 1), ("b", "z", 1)]);
        let Allocation::Split { groups, .. } = allocate(&units(&[("x", 1), ("z", 1)]), &["b", "a"], &s) else {
            panic!("expected a split")
        };
        assert_eq!(groups[0].warehouse, "b");
        assert_eq!(groups[1].warehouse, "a");
    }
}
