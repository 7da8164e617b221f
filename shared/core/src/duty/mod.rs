//! Duties and import taxes: landed cost under dated customs rules, the customs pre-check and the commercial
//! invoice, all from one [`Shipment`].

pub mod amount;
pub mod invoice;
pub mod landed;
pub mod order;
pub mod precheck;
pub mod rules;

pub use amount::Amount;
pub use invoice::{Invoice, commercial_invoice, render_html};
pub use landed::{LandedCost, landed_cost};
pub use order::{Channel, Incoterm, Line, Party, Shipment};
pub use precheck::{Problem, Severity, precheck};
pub use rules::Rules;
