//! The ports the functions store and move data through, each with an embedded adapter for `lastmile dev` and
//! an AWS one: a table (DynamoDB's model), a queue (SQS's), a blob store (S3's), a clock, secrets. Every adapter passes
//! the same conformance suite ([`crate::conformance`]).

pub mod blob;
pub mod clock;
pub mod queue;
pub mod secrets;
pub mod table;

pub use blob::{BlobError, BlobStore};
pub use clock::{Clock, ManualClock, SystemClock};
pub use queue::{Message, Queue, QueueError};
pub use secrets::{EnvSecrets, FileSecrets, SecretError, Secrets};
pub use table::{Condition, Item, Key, Page, Query, SkRange, StoreError, TableStore, TenantTable, Write};
