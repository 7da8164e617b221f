//! The rating engine: what a parcel costs on each line, from rate cards as data.

pub mod price;
pub mod surcharge;
pub mod weight;
pub mod zone;
