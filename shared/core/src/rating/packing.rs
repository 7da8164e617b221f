//! The packing rule: order items → parcels, when the caller does not give parcels itself.
//!
//! Items are packed heaviest first, each into the first parcel it fits (first-fit decreasing), where a parcel
//! fits an item while its weight stays within `max_parcel_grams` and its stacked height within
//! `max_parcel_height_mm`. A parcel's dimensions are the largest item length and width and the sum of the
//! item heights (items stacked, each lying on its largest face); items without dimensions add weight only, and a
//! parcel of such items only has dimensions when a default box is configured. An item heavier than the limit
//! ships alone.

use serde::{Deserialize, Serialize};

use super::quote::Parcel;
use crate::units::Dimensions;

/// An order line to ship.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Item {
    pub grams: u64,
    #[serde(default)]
    pub dimensions: Option<Dimensions>,
    #[serde(default = "one")]
    pub quantity: u32,
}

fn one() -> u32 {
    1
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PackingRule {
    pub max_parcel_grams: u64,
    pub max_parcel_height_mm: u32,
    /// Box used for parcels whose items have no dimensions.
    #[serde(default)]
    pub default_box: Option<Dimensions>,
}

impl Default for PackingRule {
    fn default() -> Self {
        PackingRule { max_parcel_grams: 20_000, max_parcel_height_mm: 600, default_box: None }
    }
}

#[derive(Default)]
struct Open {
    grams: u64,
    length: u32,
    width: u32,
    height: u32,
    measured: bool,
}

/// Packs `items` by the rule above. At most `MAX_UNITS` item units are packed one by one; quantities beyond
/// that are refused by the caller's validation, so a request cannot make this loop long.
pub fn pack(items: &[Item], rule: &PackingRule) -> Vec<Parcel> {
    let mut units: Vec<(u64, Option<[u32; 3]>)> = items
        .iter()
        .flat_map(|item| {
            std::iter::repeat_n((item.grams, item.dimensions.map(Dimensions::sorted_desc)), item.quantity as usize)
        })
        .take(MAX_UNITS)
        .collect();
    units.sort_by_key(|unit| std::cmp::Reverse(unit.0));
    let mut open: Vec<Open> = Vec::new();
    for (grams, sides) in units {
        let height = sides.map_or(0, |s| s[2]);
        let slot = open
            .iter_mut()
            .find(|p| p.grams + grams <= rule.max_parcel_grams && p.height + height <= rule.max_parcel_height_mm);
        let parcel = match slot {
            Some(parcel) => parcel,
            None => {
                open.push(Open::default());
                open.last_mut().unwrap_or_else(|| unreachable!("just pushed"))
            }
        };
        parcel.grams += grams;
        if let Some([l, w, h]) = sides {
            parcel.length = parcel.length.max(l);
            parcel.width = parcel.width.max(w);
            parcel.height += h;
            parcel.measured = true;
        }
    }
    open.into_iter()
        .map(|p| Parcel {
            grams: p.grams,
            dimensions: if p.measured {
                Some(Dimensions { length_mm: p.length, width_mm: p.width, height_mm: p.height.max(1) })
            } else {
                rule.default_box
            },
        })
        .collect()
}

/// Most item units one request may ask to pack.
pub const MAX_UNITS: usize = 500;

#[cfg(test)]
mod tests {
    use super::*;

    fn dims(l: u32, w: u32, h: u32) -> Option<Dimensions> {
        Some(Dimensions { length_mm: l, width_mm: w, height_mm: h })
    }

    #[test]
    fn items_stack_into_one_parcel_until_a_limit() {
        let items = [Item { grams: 3000, dimensions: dims(300, 200, 100), quantity: 3 }];
        // 3 × 3 kg = 9 kg ≤ 20 kg, heights 3 × 100 mm = 300 ≤ 600: one 300×200×300 parcel of 9 kg.
        assert_eq!(pack(&items, &PackingRule::default()), [Parcel { grams: 9000, dimensions: dims(300, 200, 300) }]);
        // 8 of them: 24 kg > 20 kg → 6 in the first (18 kg, 600 mm), 2 in the second.
        let items = [Item { grams: 3000, dimensions: dims(300, 200, 100), quantity: 8 }];
        let parcels = pack(&items, &PackingRule::default());
        assert_eq!(parcels.iter().map(|p| p.grams).collect::<Vec<_>>(), [18_000, 6000]);
    }

    #[test]
    fn unmeasured_items_use_the_default_box_and_heavy_items_ship_alone() {
        let rule = PackingRule { default_box: dims(300, 250, 150), ..PackingRule::default() };
        let items =
            [Item { grams: 400, dimensions: None, quantity: 2 }, Item { grams: 25_000, dimensions: None, quantity: 1 }];
        let parcels = pack(&items, &rule);
        assert_eq!(
            parcels,
            [
                Parcel { grams: 25_000, dimensions: dims(300, 250, 150) },
                Parcel { grams: 800, dimensions: dims(300, 250, 150) }
            ]
        );
    }
}
