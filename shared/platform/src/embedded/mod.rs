//! The embedded adapters of the ports, for `lastmile dev` and tests: everything in one redb database file and a
//! directory of blobs, surviving restarts and crashes.

pub mod blob;
pub mod queue;
