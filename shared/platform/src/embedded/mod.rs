//! The embedded adapters of the ports, for `lastmile dev`: a redb file for the table and the queues, files for
//! blobs. Nothing to install, and a restart (or a crash) loses nothing.

pub mod blob;
pub mod links;
pub mod queue;
pub mod table;
