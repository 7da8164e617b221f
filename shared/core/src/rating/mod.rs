//! The rating engine: what a parcel costs on each line, from rate cards as data.

pub mod card;
pub mod engine;
pub mod packing;
pub mod price;
pub mod quote;
pub mod surcharge;
pub mod transit;
pub mod weight;
pub mod zone;
